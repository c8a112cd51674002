"""The README's "Python API" examples run as doctests, in a temporary folder (never the repo's outputs/)."""

from __future__ import annotations

import doctest
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data"


def readme_api_examples() -> str:
    """The ```python blocks of the README's "## Python API" section, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Python API\n(.*?)(?=^## )", text, re.M | re.S)
    assert section, "README.md has no '## Python API' section"
    blocks = re.findall(r"^```python\n(.*?)^```", section.group(1), re.M | re.S)
    assert blocks, "the Python API section has no ```python examples"
    return "\n".join(blocks)


def test_readme_python_api_examples_run(mini_build, tmp_path, monkeypatch):
    # the README builds papers.jsonl into out/: the mini corpus, over a copy of the session's mini
    # build, so the incremental build finds every extraction in the cache (the doctest stays quick)
    shutil.copyfile(DATA / "mini.jsonl", tmp_path / "papers.jsonl")
    shutil.copytree(mini_build, tmp_path / "out")
    monkeypatch.chdir(tmp_path)
    examples = readme_api_examples()
    test = doctest.DocTestParser().get_doctest(examples, {}, "README.md (Python API)", str(ROOT / "README.md"), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    failures: list[str] = []
    runner.run(test, out=failures.append)
    assert runner.failures == 0, "".join(failures)
    assert runner.tries >= 20
    assert not (ROOT / "out").exists() and (tmp_path / "export" / "kg.ttl").is_file()
