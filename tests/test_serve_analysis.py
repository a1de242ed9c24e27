"""``formcheck serve`` analysing a real clip through the API: the same result as ``formcheck analyze``,
progress that moves, the annotated video served in ranges, the history shared with ``formcheck
batch``; a server killed mid-analysis loses nothing; cancel and delete."""

from __future__ import annotations

import signal
import sqlite3
import time

import httpx
import pytest

from conftest import needs_shared
from test_serve_helpers import SQUAT_CLIP, Server, wait_for

pytestmark = [pytest.mark.pose_model]


@pytest.fixture(scope="module")
def analyze_reference(tmp_path_factory):
    """``formcheck analyze``'s report of the clip (the same function the command runs)."""
    if not SQUAT_CLIP.is_file():
        pytest.skip(f"{SQUAT_CLIP} not found")
    from formcheck.apps.analyze import analyze_video

    return analyze_video(SQUAT_CLIP, tmp_path_factory.mktemp("analyze"), html=False)


def upload(http: httpx.Client, client: str = "anna", name: str | None = None) -> str:
    with open(SQUAT_CLIP, "rb") as fh:
        response = http.post("/api/analyses", files={"video": (name or SQUAT_CLIP.name, fh, "video/mp4")},
                             data={"client": client})
    assert response.status_code == 202 and response.json()["status"] == "queued"
    return response.json()["id"]


@needs_shared
def test_uploaded_clip_is_analysed_like_formcheck_analyze(tmp_path, analyze_reference):
    with Server(tmp_path / "data") as server, httpx.Client(base_url=server.base, timeout=60) as http:
        analysis_id = upload(http)
        seen: list[dict] = []
        state = wait_for(http, analysis_id, seen=seen)
        assert state["status"] == "done", state
        progress = [s["progress"] for s in seen if s["status"] == "running"]
        assert len(set(progress)) >= 3 and progress == sorted(progress) and 0 < max(progress) < 1

        report = state["report"]
        assert report["rep_count"] == analyze_reference.rep_count == 5
        assert [r["end_s"] for r in report["reps"]] == pytest.approx([r.end_s for r in analyze_reference.reps], abs=0.05)
        assert report["exercise"] == analyze_reference.exercise

        set_id = state["set_id"]
        video = http.get("/set/annotated.mp4", params={"id": set_id}, headers={"Range": "bytes=0-99"})
        assert video.status_code == 206 and len(video.content) == 100 and video.headers["content-type"] == "video/mp4"
        page = http.get(f"/analyses/{analysis_id}").text
        assert 'id="rep-count">5<' in page and "<video" in page and 'id="rep-table"' in page

    # The batch's layout and history: formcheck history and a later batch see this set.
    with sqlite3.connect(tmp_path / "data" / "history.sqlite") as db:
        assert db.execute("SELECT client, rep_count FROM sets WHERE set_id = ?", (set_id,)).fetchone() == ("anna", 5)
        assert db.execute("SELECT COUNT(*) FROM reps WHERE set_id = ?", (set_id,)).fetchone() == (5,)
    assert "anna" in (tmp_path / "data" / "roster.csv").read_text()
    assert (tmp_path / "data" / set_id / "batch.json").is_file()


@needs_shared
def test_a_server_killed_mid_analysis_queues_it_again_and_loses_nothing(tmp_path, analyze_reference):
    data = tmp_path / "data"
    with Server(data) as server, httpx.Client(base_url=server.base, timeout=60) as http:
        analysis_id = upload(http)
        deadline = time.monotonic() + 120
        while http.get(f"/api/analyses/{analysis_id}").json()["progress"] < 0.2:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        server.stop(signal.SIGKILL)  # the whole process group, workers included: like a power cut
        assert not (data / "anna" / f"upload-{analysis_id}").exists()

    with Server(data) as server, httpx.Client(base_url=server.base, timeout=60) as http:
        state = wait_for(http, analysis_id)
        assert state["status"] == "done" and state["report"]["rep_count"] == analyze_reference.rep_count
        assert [a["id"] for a in http.get("/api/analyses").json()["analyses"]] == [analysis_id]
    assert not [p for p in (data / ".work").iterdir()] if (data / ".work").exists() else True
    assert len(list((data / "uploads").iterdir())) == 1


@needs_shared
def test_cancel_a_running_analysis_and_the_next_one_still_runs_then_delete(tmp_path):
    data = tmp_path / "data"
    with Server(data) as server, httpx.Client(base_url=server.base, timeout=60) as http:
        first, second = upload(http, "bo"), upload(http, "bo")
        # Second in the queue: behind the first, or first once the worker has taken the first.
        assert http.get(f"/api/analyses/{second}").json()["position"] in (1, 2)
        wait_for(http, first, statuses=("running",))
        cancelled = http.post(f"/api/analyses/{first}/cancel").json()
        assert cancelled["status"] == "error" and "cancelled" in cancelled["error"]
        done = wait_for(http, second)
        assert done["status"] == "done" and done["report"]["rep_count"] == 5
        assert http.get(f"/api/analyses/{first}").json()["status"] == "error"
        assert not (data / "bo" / f"upload-{first}").exists()

        assert http.delete(f"/api/analyses/{second}").json()["deleted"]
        assert not (data / done["set_id"]).exists()
        assert http.get("/set", params={"id": done["set_id"]}).status_code == 404
    with sqlite3.connect(data / "history.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM reps").fetchone() == (0,)
    assert server.process is None and "Traceback" not in server.output
