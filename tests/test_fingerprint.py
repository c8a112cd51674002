"""The extraction cache key is a hash of the resources, the extraction code, the recogniser and the configuration."""

from __future__ import annotations

import shutil

from kg.extract import fingerprint
from kg.extract.pipeline import EXTRACTOR_VERSION, extractor_version


def test_version_names_the_preset_and_keeps_rules_version():
    v = extractor_version("default")
    assert v.startswith(f"{EXTRACTOR_VERSION}+") and len(v.rsplit("+", 1)[1]) == 12
    assert extractor_version("default") == v  # stable
    assert len({v, extractor_version("accurate"), extractor_version("none")}) == 3
    assert extractor_version(None) == extractor_version("none")


def test_a_changed_resource_changes_the_key(tmp_path, monkeypatch):
    res = tmp_path / "resources"
    shutil.copytree(fingerprint.RESOURCES_DIR, res)
    monkeypatch.setattr(fingerprint, "RESOURCES_DIR", res)
    before = fingerprint.extraction_fingerprint([], {"a": 1})
    assert fingerprint.extraction_fingerprint([], {"a": 1}) == before
    assert fingerprint.extraction_fingerprint([], {"a": 2}) != before  # the configuration counts
    gaz = res / "gazetteer.jsonl"
    gaz.write_text(gaz.read_text(encoding="utf-8") + '{"term": "a new method", "label": "METHOD"}\n', encoding="utf-8")
    assert fingerprint.extraction_fingerprint([], {"a": 1}) != before


def test_a_changed_model_changes_the_key(tmp_path):
    m = tmp_path / "model"
    m.mkdir()
    (m / "meta.json").write_text("{}")
    a = fingerprint.extraction_fingerprint([m], {})
    (m / "meta.json").write_text('{"version": "2"}')
    assert fingerprint.extraction_fingerprint([m], {}) != a


def test_changed_extraction_code_changes_the_key(tmp_path, monkeypatch):
    """A rule's code edited (and no version bumped by hand) misses the cache."""
    code = tmp_path / "rules.py"
    code.write_text((fingerprint.CODE_FILES[0]).read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(fingerprint, "CODE_FILES", (code,))
    before = fingerprint.extraction_fingerprint([], {})
    code.write_text(code.read_text(encoding="utf-8") + "\nX = 1\n", encoding="utf-8")
    assert fingerprint.extraction_fingerprint([], {}) != before


def test_the_code_files_are_the_extractors_not_kg_extract_itself():
    names = {p.name for p in fingerprint.CODE_FILES}
    assert {"rules.py", "components.py", "pipeline.py", "candidates.py", "records.py", "schema.py"} <= names
    assert all(p.is_file() for p in fingerprint.CODE_FILES)
