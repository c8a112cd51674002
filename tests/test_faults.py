"""Faults for real: `kg build` in a subprocess, killed with SIGKILL at several points, then rerun.

A rerun of the same command finishes without --force, reusing what the killed build extracted;
until then the previous complete outputs stay as they were; a second build into the same folder
is refused with one line.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kg.corpus import read_corpus, sample_corpus_files
from tests.outputs import COMPARED

ROOT = Path(__file__).parent.parent


def _kg_build(corpus: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "kg.cli", "build", str(corpus), "-o", str(out), "-q"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _cached_rows(out: Path) -> int:
    db = out / ".cache" / "extract.sqlite"
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return int(con.execute("SELECT COUNT(*) FROM extraction").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def _kill_when(proc: subprocess.Popen[str], ready, timeout: float = 240) -> bool:
    """SIGKILL ``proc`` as soon as ``ready()``; False if it ended first."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            return False
        if ready():
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.02)
    proc.kill()
    raise AssertionError("the build neither reached the point nor ended")


def _digest(out: Path) -> dict[str, str]:
    return {n: hashlib.sha256((out / n).read_bytes()).hexdigest() for n in COMPARED}


def _assert_previous_outputs_intact(out: Path, before: dict[str, str]) -> None:
    assert json.loads((out / ".kg-build.json").read_text())["papers"] > 0
    assert _digest(out) == before
    from kg.store import open_store

    store = open_store(out / "store")
    assert len(store) == len((out / "kg.nt").read_text(encoding="utf-8").splitlines())
    del store


@pytest.fixture(scope="module")
def corpora(tmp_path_factory) -> tuple[Path, Path]:
    papers, _ = read_corpus(sample_corpus_files())
    d = tmp_path_factory.mktemp("faults")

    def write(name: str, ps) -> Path:
        p = d / name
        p.write_text(
            "".join(
                json.dumps({"id": x.id, "title": x.title, "abstract": x.abstract, "date": x.date}) + "\n" for x in ps
            ),
            encoding="utf-8",
        )
        return p

    return write("small.jsonl", papers[:40]), write("large.jsonl", papers[:160])


@pytest.mark.slow
def test_faults_sigkill_at_several_points_then_rerun(tmp_path, corpora):
    small, large = corpora
    ref = tmp_path / "ref"
    assert (
        subprocess.run(
            [sys.executable, "-m", "kg.cli", "build", str(large), "-o", str(ref), "-q"], cwd=ROOT, capture_output=True
        ).returncode
        == 0
    )

    out = tmp_path / "out"
    assert _kg_build(small, out).wait() == 0
    before = _digest(out)
    small_rows = _cached_rows(out)
    assert small_rows == 40

    # 1. killed mid-extraction, once some of the new papers are committed to the cache
    proc = _kg_build(large, out)
    assert _kill_when(proc, lambda: _cached_rows(out) >= small_rows + 10)
    saved = _cached_rows(out)
    assert saved >= small_rows + 10
    _assert_previous_outputs_intact(out, before)

    # 2. a second build into the same folder is refused with one line while the first runs
    proc = _kg_build(large, out)
    time.sleep(1.0)
    second = subprocess.run(
        [sys.executable, "-m", "kg.cli", "build", str(large), "-o", str(out), "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert second.returncode == 1
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and "another kg build (pid" in lines[0] and "Traceback" not in second.stderr

    # 3. the same build killed while writing the RDF, after extraction went on from the cache
    staging = out / ".kg-staging"
    assert _kill_when(proc, lambda: any(staging.glob("*kg.nt*")))
    assert _cached_rows(out) == 160
    _assert_previous_outputs_intact(out, before)

    # 4. killed while the store and the other serialisations are written
    proc = _kg_build(large, out)
    assert _kill_when(proc, lambda: (staging / "store").exists() or any(staging.glob(".kg.ttl*")))
    _assert_previous_outputs_intact(out, before)

    # 5. the same command again, no --force: it finishes, extracts nothing, equals a clean build
    proc = _kg_build(large, out)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    marker = json.loads((out / ".kg-build.json").read_text())
    assert marker["cached_papers"] == 160 and marker["papers"] == 160
    assert _digest(out) == _digest(ref)
    assert not staging.exists() and not list(out.glob(".kg-old-*"))
    changes = json.loads((out / "changes.json").read_text())
    assert changes["papers"]["added"] == 120 and changes["papers"]["before"] == 40


@pytest.mark.slow
def test_faults_kill_at_random_moments_always_recovers(tmp_path, corpora):
    """Kills at fixed delays from the start (whatever stage that is), then one rerun."""
    small, _ = corpora
    out = tmp_path / "out"
    ref = tmp_path / "ref"
    assert _kg_build(small, ref).wait() == 0
    for delay in (0.5, 3.0, 6.0, 9.0):
        proc = _kg_build(small, out)
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    proc = _kg_build(small, out)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert _digest(out) == _digest(ref)
