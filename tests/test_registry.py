"""Readers, writers, named-query folders and extractor presets are registries that another
package extends through entry points; help texts and errors list what is registered."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kg.corpus.readers import READERS, Reader, detect_format, read_file
from kg.errors import KGError, OutputError, UnknownFormatError, UnknownNameError
from kg.export.writers import WRITERS
from kg.extract.presets import EXTRACTORS, resolve_model
from kg.queries import QUERY_FOLDERS, query_files
from kg.registry import Registry

ROOT = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data"


def test_kgs_own_entries():
    assert READERS.names()[:4] == ["txt", "jsonl", "csv", "tsv"]
    assert WRITERS.names()[:5] == ["nt", "ttl", "jsonld", "xml", "graphml"]
    assert EXTRACTORS.names()[:3] == ["default", "accurate", "none"]
    assert QUERY_FOLDERS.names()[0] == "kg"
    assert "top-concepts" in dict(query_files())


def test_errors_list_the_names():
    with pytest.raises(UnknownFormatError, match="use one of: txt, jsonl, csv, tsv"):
        READERS["bib"]
    with pytest.raises(OutputError, match="nt, ttl, jsonld, xml, graphml"):
        WRITERS["parquet"]
    with pytest.raises(KGError, match="use default, accurate, none or such a directory"):
        resolve_model("chem")
    with pytest.raises(UnknownFormatError, match=r"\.txt, \.jsonl, \.ndjson, \.json, \.csv, \.tsv file"):
        detect_format(Path("papers.bib"))


def test_register_checks_the_kind():
    r: Registry[int] = Registry("number", "kg.test-numbers", check=lambda o: isinstance(o, int))
    r.register("one", 1)
    with pytest.raises(TypeError):
        r.register("two", "2")  # type: ignore[arg-type]
    with pytest.raises(UnknownNameError, match="unknown number 'three'; use one of: one"):
        r["three"]


def test_a_registered_reader_reads(tmp_path):
    def read_lines(path, text, warnings, bad):
        from kg.records import Paper, paper_id

        return [Paper(paper_id(t), t, "") for t in text.splitlines() if t.strip()]

    READERS.register("titles-test", Reader(read_lines, (".titles-test",)))
    try:
        f = tmp_path / "x.titles-test"
        f.write_text("A first paper\nA second paper\n")
        assert [p.title for p in read_file(f)] == ["A first paper", "A second paper"]
    finally:
        READERS._items.pop("titles-test")


PLUGIN = """
from pathlib import Path
from kg.corpus.readers import Reader
from kg.extract.presets import Preset
from kg.records import Paper, paper_id
from kg.export.writers import Writer

def _read(path, text, warnings, bad):
    return [Paper(paper_id(t), t, "an abstract") for t in text.splitlines() if t.strip()]

def _write(store_dir, path):
    path.write_text("written from " + store_dir.name)

reader = Reader(_read, (".bib",), "one title a line")
writer = Writer("kg.test", _write, "a test format")
preset = Preset("a plug-in pipeline", Path(__file__).parent / "no-pipeline")
"""


@pytest.fixture(scope="module")
def plugin(tmp_path_factory) -> Path:
    """A package installed on sys.path with entry points in each of kg's groups."""
    root = tmp_path_factory.mktemp("plugin")
    (root / "kg_testplug.py").write_text(PLUGIN)
    (root / "kg_testplug_queries").mkdir()
    (root / "kg_testplug_queries" / "__init__.py").write_text("")
    (root / "kg_testplug_queries" / "plug-papers.rq").write_text(
        "# description: every paper (a plug-in's query)\nSELECT ?p WHERE { ?p a schema:ScholarlyArticle }\n"
    )
    dist = root / "kg_testplug-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: kg-testplug\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        textwrap.dedent("""\
        [kg.readers]
        bib = kg_testplug:reader
        [kg.writers]
        test = kg_testplug:writer
        [kg.extractors]
        plug = kg_testplug:preset
        [kg.queries]
        testplug = kg_testplug_queries
        """)
    )
    return root


def _run(plugin: Path, code: str) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin), str(ROOT)])}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_entry_points_plug_in(plugin, tmp_path):
    (tmp_path / "a.bib").write_text("Plugged-in paper one\nPlugged-in paper two\n")
    out = _run(
        plugin,
        f"""
from pathlib import Path
from kg.corpus.readers import READERS, read_file
from kg.export.writers import WRITERS
from kg.extract.presets import EXTRACTORS
from kg.store import named_queries
print([p.title for p in read_file(Path({str(tmp_path / "a.bib")!r}))])
print(READERS.names(), WRITERS.names()[-1], EXTRACTORS.names()[-1])
print(named_queries()["plug-papers"].description)
""",
    )
    assert "['Plugged-in paper one', 'Plugged-in paper two']" in out
    assert "['txt', 'jsonl', 'csv', 'tsv', 'bib'] test plug" in out
    assert "every paper (a plug-in's query)" in out


def test_build_writes_a_plug_in_format(plugin, tmp_path):
    """`kg build --formats nt,test` writes the plug-in writer's file from the built store."""
    out = _run(
        plugin,
        f"""
from pathlib import Path
from kg.build import build
r = build([Path({str(DATA / "mini.jsonl")!r})], Path({str(tmp_path / "out")!r}), model=None, formats=["nt", "test"])
print(r.formats, Path({str(tmp_path / "out" / "kg.test")!r}).read_text())
""",
    )
    assert "['nt', 'test'] written from store" in out


def test_cli_help_and_errors_list_plug_ins(plugin):
    out = _run(
        plugin,
        """
import sys
from typer.testing import CliRunner
from kg.cli import app
r = CliRunner().invoke(app, ["build", "--help"], terminal_width=400, env={"COLUMNS": "400"})
print(" ".join(r.output.split()))
r = CliRunner().invoke(app, ["build", "--model", "plug", "x.txt"])
print(" ".join(r.output.split()))
""",
    )
    assert "comma-separated: nt,ttl,jsonld,xml,test" in out  # --formats lists the plug-in's writer
    assert "txt, jsonl, csv, tsv or bib" in out
    assert "'plug' (a plug-in pipeline)" in out
    assert "not a trained spaCy pipeline directory" in out  # the plug-in's folder is checked like any
