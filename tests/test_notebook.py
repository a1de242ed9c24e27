"""The example notebook runs from top to bottom (on a synthetic clip it renders), so it never rots."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "analyze_a_video.ipynb"

nbformat = pytest.importorskip("nbformat", reason="nbformat not installed (pip install '.[test]')")
nbclient = pytest.importorskip("nbclient", reason="nbclient not installed (pip install '.[test]')")
pytest.importorskip("ipykernel", reason="ipykernel not installed (pip install '.[test]')")

pytestmark = pytest.mark.pose_model  # the notebook renders a clip and runs the pose model


def test_notebook_runs_and_shows_plots_and_tables(tmp_path, monkeypatch):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # The kernel is a child process: its temporary folders land in tmp_path, and it
    # must analyse the rendered sample, not whatever video the environment names.
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.delenv("FORMCHECK_VIDEO", raising=False)
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, if any cell fails

    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    pictures = [o for o in outputs if "image/png" in o.get("data", {})]
    tables = [o for o in outputs if "text/html" in o.get("data", {}) and "<table" in o["data"]["text/html"]]
    assert len(pictures) >= 2, "the signal plot and the knee/hip plot should be shown"
    assert len(tables) >= 3, "the rep table and the per-frame tables should be shown"
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "Squat · side view · 2 reps" in text, text
    assert "shallow depth (fault)" in text
    pages = list(tmp_path.glob("formcheck-notebook-*/results/report.html"))
    assert len(pages) == 1 and pages[0].stat().st_size > 50_000
