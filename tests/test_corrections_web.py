"""Corrections written from the explorer's concept page (`kg serve --allow-corrections`), against a real
server: read-only without the flag, token + same origin with it, and the next `kg build` applies them."""

from __future__ import annotations

import csv
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kg.normalise.corrections import FILENAME, load_corrections

CHROMIUM = Path("/usr/lib/chromium/chromium")
CONCEPT = "speculative-decoding"


@pytest.fixture(scope="module")
def out(mini_build, tmp_path_factory) -> Path:
    """A copy of the session's small build: these tests write beside its store."""
    dst = tmp_path_factory.mktemp("fix") / "out"
    shutil.copytree(mini_build, dst)
    return dst


@pytest.fixture(scope="module")
def server(out) -> Iterator[str]:
    from kg.web.testing import running_server

    with running_server(out / "store", "--allow-corrections") as base:
        yield base


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def _http(
    url: str, form: dict[str, str] | None = None, headers: dict[str, str] | None = None, follow: bool = True
) -> tuple[int, str, Any]:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    req = urllib.request.Request(url, data=data, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    opener = urllib.request.build_opener() if follow else urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(req, timeout=20) as r:
            return r.status, r.read().decode(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), e.headers


def _token(base: str, cid: str = CONCEPT) -> str:
    status, body, _ = _http(f"{base}/concept/{cid}")
    assert status == 200
    m = re.search(r'name="token" value="([^"]+)"', body)
    assert m, "no corrections form on the concept page"
    return m.group(1)


def _post(base: str, fields: dict[str, str], origin: str | None = "same", **kw) -> tuple[int, str, Any]:
    headers = {} if origin is None else {"Origin": base if origin == "same" else origin}
    return _http(base + "/corrections", fields, headers, **kw)


def test_without_the_flag_the_explorer_stays_read_only(mini_build, tmp_path):
    from kg.web.testing import running_server

    out = tmp_path / "out"
    shutil.copytree(mini_build, out)
    with running_server(out / "store") as base:
        status, body, _ = _http(f"{base}/concept/{CONCEPT}")
        assert status == 200 and "FastSpec" in body
        assert "/corrections" not in body and 'name="token"' not in body
        for origin in ("same", None):
            status, body, _ = _post(base, {"token": "x", "concept": CONCEPT, "action": "drop"}, origin)
            assert status == 403 and "--allow-corrections" in body
    assert not (out / FILENAME).exists()


def test_form_post_appends_the_correction_and_the_page_shows_it(server, out):
    token = _token(server)
    status, body, headers = _post(
        server, {"token": token, "concept": CONCEPT, "action": "rename", "label": "spec decoding"}, follow=False
    )
    assert status == 303 and headers["location"].startswith(f"/concept/{CONCEPT}?saved=rename")
    status, body, headers = _post(server, {"token": token, "concept": CONCEPT, "action": "retype", "type": "task"})
    assert status == 200 and "Saved" in body and "next <code>kg build</code>" in body
    assert headers.get("X-Frame-Options") == "DENY" and headers.get("Cache-Control") == "no-store"
    fixes = load_corrections(out / FILENAME)
    assert fixes.entries["rename"] == [{"concept": CONCEPT, "label": "spec decoding"}]
    assert fixes.entries["retype"] == [{"concept": CONCEPT, "type": "TASK"}]
    # pending corrections are read from the file on every view
    body = _http(f"{server}/concept/{CONCEPT}")[1]
    assert "&#39;spec decoding&#39;" in body and "type TASK" in body
    # the Referer stands in for a missing Origin
    # (two concepts of the build other than CONCEPT: which ones exist depends on the extractor)
    with (out / "concepts.csv").open(encoding="utf-8") as f:
        first, other = [row["id"] for row in csv.DictReader(f) if row["id"] != CONCEPT][:2]
    status, body, _ = _http(
        server + "/corrections",
        {"token": token, "concept": first, "action": "merge", "other": other},
        {"Referer": server + f"/concept/{first}"},
    )
    assert status == 200 and f"with {other}" in body
    assert load_corrections(out / FILENAME).entries["merge"] == [{"concepts": [first, other]}]
    # user text is data: quotes, brackets, newlines and markup neither break the TOML nor reach the HTML
    evil = 'x" ]]\n[[drop]]\nconcept = "humaneval" <script>alert(1)</script>'
    status, body, _ = _post(server, {"token": token, "concept": CONCEPT, "action": "rename", "label": evil})
    assert status == 200 and "<script>alert(1)" not in body and "&lt;script&gt;alert(1)" in body
    fixes = load_corrections(out / FILENAME)
    assert fixes.entries["drop"] == [] and fixes.entries["rename"][-1]["label"] == " ".join(evil.split())


@pytest.mark.parametrize(
    ("case", "token", "origin", "headers"),
    [
        ("no token", None, "same", {}),
        ("wrong token", "not-the-token", "same", {}),
        ("other site", "ok", "http://evil.example", {}),
        ("other port", "ok", "http://127.0.0.1:1", {}),
        ("null origin", "ok", "null", {}),
        ("no origin nor referer", "ok", None, {}),
        ("foreign referer", "ok", None, {"Referer": "http://evil.example/concept/x"}),
    ],
)
def test_cross_site_or_tokenless_posts_are_refused_and_write_nothing(server, out, case, token, origin, headers):
    path = out / FILENAME
    before = path.read_bytes() if path.exists() else None
    fields = {"concept": CONCEPT, "action": "drop"}
    if token is not None:
        fields["token"] = _token(server) if token == "ok" else token
    hdrs = dict(headers)
    if origin is not None:
        hdrs["Origin"] = server if origin == "same" else origin
    status, body, _ = _http(server + "/corrections", fields, hdrs)
    assert status == 403, (case, body)
    assert (path.read_bytes() if path.exists() else None) == before, case


def test_bad_corrections_are_refused_with_a_reason(server, out):
    token = _token(server)
    path = out / FILENAME
    before = path.read_bytes() if path.exists() else None
    for fields, status in (
        ({"action": "retype", "type": "PERSON"}, 400),
        ({"action": "explode"}, 400),
        ({"action": "rename", "label": "   "}, 400),
        ({"action": "merge", "other": "no such concept anywhere"}, 404),
        ({"action": "split", "alias": "not one of its forms"}, 400),
        ({"action": "drop", "concept": "no-such-concept"}, 404),
    ):
        got, body, _ = _post(server, {"token": token, "concept": CONCEPT, **fields})
        assert got == status and body.startswith(("not saved", "unknown correction", "type must", "a rename")), body
    assert (path.read_bytes() if path.exists() else None) == before
    # the SPARQL endpoint stays read-only
    q = urllib.parse.urlencode({"update": "DELETE WHERE { ?s ?p ?o }"}).encode()
    assert _http(server + "/sparql", None, {})[0] == 400
    req = urllib.request.Request(
        server + "/sparql", data=q, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=20)
    assert err.value.code == 403


def test_a_correction_from_the_page_is_applied_by_the_next_build(mini_build, tmp_path, data_dir):
    from kg.build import build
    from kg.web.testing import running_server

    out = tmp_path / "out"
    shutil.copytree(mini_build, out)
    with running_server(out / "store", "--allow-corrections") as base:
        status, _, _ = _post(
            base,
            {"token": _token(base), "concept": CONCEPT, "action": "rename", "label": "Speculative Decoding (renamed)"},
        )
        assert status == 200
    report = build([data_dir / "mini.jsonl"], out)
    assert any("renamed" in line for line in report.corrections), report.corrections
    assert '"Speculative Decoding (renamed)"' in (out / "kg.nt").read_text()
    with running_server(out / "store", "--allow-corrections") as base:
        body = _http(f"{base}/concept/{CONCEPT}")[1]
        assert "<h1>" in body and "Speculative Decoding (renamed)</h1>" in body
        assert "rename" in body  # still pending: the file stays, every build applies it


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
def test_browser_fills_the_form(server, out):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(f"{server}/concept/{CONCEPT}")
            page.click("#corrections summary")
            page.fill("#corrections input[name=other]", "HumanEval")
            page.click("#corrections form:has(input[name=other]) button")
            page.wait_for_selector("#corrections .saved")
            assert "merge" in page.inner_text("#corrections .pending")
        finally:
            browser.close()
    merges = load_corrections(out / FILENAME).entries["merge"]
    assert [CONCEPT, "HumanEval"] in [m["concepts"] for m in merges]
