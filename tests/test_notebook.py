"""The exploration notebook runs from top to bottom (nbclient), so it cannot rot."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).parent.parent / "notebooks" / "explore.ipynb"


def test_notebook_explore_runs(mini_build, tmp_path, monkeypatch):
    monkeypatch.setenv("KG_OUTPUTS", str(mini_build))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "papers mention speculative decoding" in text
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert (tmp_path / "neighbourhood.html").exists()
