"""``formcheck batch``: discovery, error entries, resumption after SIGKILL, the landmark
cache, the roster and index, the history database, and the Dask run equal to the local one.

The clips are small rendered lifters (320×240, one rep each), so the pose model
runs for real; the whole module takes about a minute on two cores.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from formcheck.analysis.report import Report
from formcheck.apps.coach import batch
from formcheck.apps.coach import pool as batch_pool
from formcheck.apps.coach import history
from formcheck.apps.coach.batch import Job, Settings, discover_jobs, run_batch

SMALL = dict(setup_s=0.5, image_size=(320, 240), focal_px=400.0, supersample=1)
ODD_CLIENT = 'ben & <co> "x"'  # must come out escaped in the HTML index


def _write_no_person_clip(path: Path, frames: int = 30) -> None:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (320, 240))
    image = np.full((240, 320, 3), 120, np.uint8)
    cv2.rectangle(image, (60, 40), (200, 160), (40, 90, 160), -1)  # an empty room: a door, no lifter
    for _ in range(frames):
        writer.write(image)
    writer.release()


@pytest.fixture(scope="module")
def clients(tmp_path_factory) -> Path:
    """clients/<name>/… with three good sets, one corrupt file and one video without a person."""
    from formcheck.synth import SynthSpec, write_clip

    root = tmp_path_factory.mktemp("batch") / "clients"
    write_clip(root / "anna" / "week1" / "squat.mp4", SynthSpec("squat", reps=1, **SMALL))
    write_clip(root / "anna" / "week2" / "squat.mp4", SynthSpec("squat", reps=1, depth=0.6, seed=1, **SMALL))
    write_clip(root / ODD_CLIENT / "deadlift.mp4", SynthSpec("deadlift", reps=1, tempo=0.7, **SMALL))
    (root / ODD_CLIENT / "broken.mp4").write_bytes(os.urandom(4096))
    _write_no_person_clip(root / "carl" / "empty_room.mp4")
    for truth in root.rglob("*.truth.*"):  # keep the tree to videos only
        truth.unlink()
    return root


@pytest.fixture(scope="module")
def local_run(clients, tmp_path_factory):
    out = tmp_path_factory.mktemp("out_local")
    summary = run_batch([str(clients)], out, workers=2, quiet=True)
    return summary, out


def _sets(out: Path) -> list[dict]:
    with (out / "sets.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def _result_folders(out: Path) -> list[Path]:
    """Every published per-video folder (outside the staging and cache folders)."""
    return sorted(p.parent for p in out.rglob(batch.RECORD_NAME) if not p.relative_to(out).parts[0].startswith("."))


# ----------------------------------------------------------------------------- discovery (no video needed)
def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_client_is_the_first_folder_level_and_the_manifest_overrides(tmp_path):
    root = tmp_path / "clients"
    _touch(root / "anna" / "week1" / "a.mp4")
    _touch(root / "anna" / "week1" / "a.mov")  # same stem: needs its own output folder
    _touch(root / "anna" / "notes.txt")
    _touch(root / "anna" / ".hidden" / "x.mp4")
    _touch(root / "ben" / "b.MP4")
    _touch(root / "loose.mp4")
    out = root / "results"
    _touch(out / "anna" / "a" / "annotated.mp4")  # earlier outputs inside the input are not inputs
    other = _touch(tmp_path / "elsewhere" / "c.mp4")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "video,client,exercise,date\n"
        "clients/ben/b.MP4,Benjamin,deadlift,2025-03-01\n"
        "elsewhere/c.mp4,../../etc,squat,\n"
    )

    jobs, warnings = discover_jobs([str(root), str(tmp_path / "nothing*.mp4")], manifest=manifest, exclude=out.resolve())
    by_name = {Path(j.video).relative_to(tmp_path).as_posix(): j for j in jobs}
    assert set(by_name) == {"clients/anna/week1/a.mp4", "clients/anna/week1/a.mov", "clients/ben/b.MP4", "clients/loose.mp4", "elsewhere/c.mp4"}
    assert warnings and "nothing" in warnings[0]
    assert by_name["clients/anna/week1/a.mp4"].client == "anna"
    assert by_name["clients/loose.mp4"].client == "clients"  # directly in the input folder: that folder
    assert {by_name["clients/anna/week1/a.mp4"].set_id, by_name["clients/anna/week1/a.mov"].set_id} == {
        "anna/week1/a_mp4", "anna/week1/a_mov"}
    ben = by_name["clients/ben/b.MP4"]
    assert (ben.client, ben.exercise, ben.date, ben.set_id) == ("Benjamin", "deadlift", "2025-03-01", "Benjamin/b")
    stray = by_name["elsewhere/c.mp4"]
    assert stray.client == "../../etc" and ".." not in stray.set_id.split("/")  # never a path out of OUT
    assert len({j.set_id for j in jobs}) == len(jobs)

    globbed, _ = discover_jobs([str(root / "*" / "week1" / "*.mp4")])  # the client is below the fixed part
    assert [(j.client, j.set_id) for j in globbed] == [("anna", "anna/week1/a")]
    in_one_folder, _ = discover_jobs([str(root / "ben" / "*.MP4")])  # clients/ben/*.MP4: ben
    assert [(j.client, j.set_id) for j in in_one_folder] == [("ben", "ben/b")]
    one_folder, _ = discover_jobs([str(root / "anna")])
    assert {j.client for j in one_folder} == {"week1"}  # the first level below the given folder
    named, _ = discover_jobs([str(root / "anna")], client="Anna K")
    assert {(j.client, j.set_id) for j in named} == {("Anna K", "Anna K/week1/a_mp4"), ("Anna K", "Anna K/week1/a_mov")}


def test_bad_manifest_and_missing_profile_support_are_clear_errors(tmp_path):
    bad = tmp_path / "m.csv"
    bad.write_text("video,exercise\nx.mp4,bench press\n")
    with pytest.raises(batch.InputError, match="bench press"):
        discover_jobs([], manifest=bad)
    try:
        import formcheck.exercises.profiles  # noqa: F401
    except ImportError:
        with pytest.raises(batch.FormcheckError, match="profiles are not supported yet"):
            batch.load_thresholds(tmp_path / "p.toml")


# ----------------------------------------------------------------------------- a local batch
def test_every_video_reported_once_bad_files_get_error_entries(local_run, clients):
    summary, out = local_run
    by_video = {Path(r["video"]).relative_to(clients).as_posix(): r for r in summary.records}
    assert len(by_video) == 5 == len(summary.records)
    broken = by_video[f"{ODD_CLIENT}/broken.mp4"]
    assert broken["status"] == "error" and "video" in broken["error"]
    empty = by_video["carl/empty_room.mp4"]
    assert empty["status"] == "error" and "no person" in empty["error"]
    good = [r for name, r in by_video.items() if name not in (f"{ODD_CLIENT}/broken.mp4", "carl/empty_room.mp4")]
    assert all(r["status"] == "ok" and r["summary"]["rep_count"] >= 1 for r in good)

    rows = _sets(out)
    assert sorted(r["video"] for r in rows) == sorted(r["video"] for r in summary.records)  # each exactly once
    for record in good:  # the same files as `formcheck analyze`
        folder = out / record["set_id"]
        for name in ("report.json", "angles.csv", "landmarks.npz", "annotated.mp4", batch.RECORD_NAME):
            assert (folder / name).is_file(), (folder, name)
    assert not (out / broken["set_id"] / "report.json").exists()  # an error entry, not a half result


def test_roster_and_index(local_run):
    summary, out = local_run
    with (out / "roster.csv").open(newline="") as fh:
        rows = {r["client"]: r for r in csv.DictReader(fh)}
    assert set(rows) == {"anna", ODD_CLIENT, "carl"}
    anna_reps = sum(r["summary"]["rep_count"] for r in summary.records if r["client"] == "anna")
    assert int(rows["anna"]["reps"]) == anna_reps and int(rows["anna"]["sets"]) == 2
    assert int(rows["carl"]["errors"]) == 1 and rows["carl"]["attention"] == "errors"
    fault_reps = int(rows["anna"]["reps_with_fault"])
    assert float(rows["anna"]["fault_rate"]) == pytest.approx(fault_reps / anna_reps, abs=1e-3)

    page = (out / "index.html").read_text()
    assert ODD_CLIENT not in page and "ben &amp; &lt;co&gt; &quot;x&quot;" in page
    assert "<script" not in page
    shallow = next(r for r in summary.records if r["set_id"] == "anna/week2/squat")  # rendered at 0.6 of parallel
    assert shallow["summary"]["faults"] + shallow["summary"]["cautions"] >= 1
    assert "anna/week2/squat/annotated.mp4#t=" in page  # a worst rep, linked to its clip …
    assert shallow["stills"] and all((out / shallow["set_id"] / name).is_file() for name in shallow["stills"].values())
    assert f'src="anna/week2/squat/{next(iter(shallow["stills"].values()))}"' in page  # … and its frame


def test_history_database_and_command(local_run, tmp_path, capsys):
    summary, out = local_run
    ok = [r for r in summary.records if r["status"] == "ok"]
    with sqlite3.connect(out / batch.DB_NAME) as db:
        assert db.execute("SELECT COUNT(*) FROM sets").fetchone()[0] == len(ok)
        assert db.execute("SELECT COUNT(*) FROM reps").fetchone()[0] == sum(r["summary"]["rep_count"] for r in ok)
        assert db.execute("SELECT COUNT(*) FROM sets WHERE client = 'carl'").fetchone()[0] == 0  # errors hold no reps
    plot = tmp_path / "anna.png"
    assert history.main(["anna", "--db", str(out), "--plot", str(plot)]) == 0
    printed = capsys.readouterr().out
    assert "anna · squat" in printed and "2 sets" in printed and "fault reps" in printed
    assert plot.stat().st_size > 1000
    assert history.main(["anny", "--db", str(out), "--no-plot"]) == 2
    assert "did you mean anna" in capsys.readouterr().err


def test_history_trend_follows_the_sessions(tmp_path):
    """Peak lumbar flexion falling over three sessions gives a falling trend (real DB round trip)."""
    db_path = tmp_path / "h.sqlite"
    with history.HistoryDB(db_path) as db:
        for week, flexion in enumerate([30.0, 24.0, 15.0]):
            record = {"set_id": f"anna/s{week}", "client": "anna", "date": f"2025-01-{1 + 7 * week:02d}",
                      "video": f"s{week}.mp4", "status": "ok", "source": {"sha256": str(week)}}
            reps = [{"index": i + 1, "start_s": 0, "end_s": 2, "duration_s": 2,
                     "metrics": {"peak_lumbar_flexion_deg": flexion + d, "hinge_ratio": 0.5 + 0.1 * week},
                     "faults": [{"code": "lumbar_flexion", "severity": "fault"}] if flexion + d >= 25 else []}
                    for i, d in enumerate((-1.0, 1.0))]
            db.store(record, Report.from_dict({"exercise": "deadlift", "view": {"label": "side"}, "reps": reps}))
        by_exercise = history.sessions(db.reps("anna"))
    sessions = by_exercise["deadlift"]
    assert [s.mean("peak_lumbar_flexion_deg") for s in sessions] == [30.0, 24.0, 15.0]
    assert [s.fault_rate for s in sessions] == [1.0, 0.5, 0.0]
    t = history.trend(sessions, "peak_lumbar_flexion_deg")
    assert t.per_week == pytest.approx(-7.5) and (t.first, t.last, t.days) == (30.0, 15.0, 14)
    assert history.trend(sessions, "hinge_ratio").per_week > 0
    assert "30.0 → 15.0°" in history.history_text("anna", by_exercise)


# ----------------------------------------------------------------------------- re-runs and the cache
def test_rerun_skips_finished_videos_and_new_settings_reuse_cached_landmarks(local_run, clients, tmp_path, monkeypatch):
    summary, original = local_run
    out = tmp_path / "out"
    shutil.copytree(original, out, symlinks=True)
    (out / batch.LOCK_NAME).unlink()
    ok = {r["set_id"]: r for r in summary.records if r["status"] == "ok"}

    again = run_batch([str(clients)], out, workers=0, quiet=True)
    assert again.skipped == len(ok) and again.analysed == 0
    assert len(again.errors) == 2  # error entries are retried, and fail again

    import formcheck.apps.analyze
    import formcheck.io.video

    def no_pose_model(*args, **kwargs):
        raise AssertionError("the pose model ran although the landmarks were cached")

    monkeypatch.setattr(formcheck.apps.analyze, "estimate_track", no_pose_model)
    redo = run_batch([str(clients)], out, workers=0, quiet=True, video=False, force=True)
    redone = {r["set_id"]: r for r in redo.records if r["status"] == "ok"}
    assert set(redone) == set(ok) and all(r["landmarks_from_cache"] for r in redone.values())
    for set_id in ok:
        before = json.loads((original / set_id / "report.json").read_text())
        after = json.loads((out / set_id / "report.json").read_text())
        assert after["reps"] == before["reps"] and after["source"] == before["source"]
        assert not (out / set_id / "annotated.mp4").exists()  # --no-video replaced the whole folder

    # The same in forked workers, and the pages' key frames come from the cache: no video is decoded.
    def no_decoding(*args, **kwargs):
        raise AssertionError("a video was decoded although its key frames were cached")

    monkeypatch.setattr(formcheck.io.video, "read_frames", no_decoding)
    forked = run_batch([str(clients)], out, workers=2, quiet=True, video=False, force=True)
    assert [r["set_id"] for r in forked.records] == [r["set_id"] for r in redo.records]
    assert all(r["landmarks_from_cache"] for r in forked.records if r["status"] == "ok")
    for set_id in ok:
        assert json.loads((out / set_id / "report.json").read_text())["reps"] == after_reps(original, set_id)
        page = (out / set_id / "report.html").read_text(encoding="utf-8")
        before = (original / set_id / "report.html").read_text(encoding="utf-8")
        assert page.count("data:image/jpeg") == before.count("data:image/jpeg") > 0
        assert (out / set_id / "angles.csv").read_text() == (original / set_id / "angles.csv").read_text()
    with history.HistoryDB(out / batch.DB_NAME) as database:
        assert history.sessions(database.reps("anna"))  # stored again, readable


def after_reps(out: Path, set_id: str) -> list:
    return json.loads((out / set_id / "report.json").read_text())["reps"]


# ----------------------------------------------------------------------------- SIGKILL and resume
def test_sigkill_mid_batch_then_rerun_reports_every_video_exactly_once(clients, tmp_path):
    inputs = tmp_path / "in"
    for source in sorted((clients / "anna").rglob("*.mp4")):  # two sets: the kill lands during the second
        target = inputs / source.relative_to(clients)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "formcheck", "batch", str(inputs), "--out", str(out), "--workers", "1", "--quiet"]
    # Run outside the checkout so the installed package (with its bundled model) is imported.
    process = subprocess.Popen(
        command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path
    )
    deadline = time.monotonic() + 120
    try:
        while not _result_folders(out) and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # the driver and its worker, mid-video
        process.wait()
    assert process.returncode == -signal.SIGKILL, process.stderr.read().decode()[-2000:]
    finished_before = {f.relative_to(out).as_posix(): json.loads((f / batch.RECORD_NAME).read_text()) for f in _result_folders(out)}
    assert len(finished_before) == 1
    for folder in _result_folders(out):  # whatever is visible is complete
        assert (folder / "report.json").is_file() and (folder / "annotated.mp4").is_file()

    summary = run_batch([str(inputs)], out, workers=0, quiet=True)
    assert (summary.skipped, summary.analysed) == (1, 1)
    rows = _sets(out)
    assert sorted(r["video"] for r in rows) == sorted(str(p) for p in inputs.rglob("*.mp4"))
    assert all(r["status"] == "ok" for r in rows)
    leftovers = [p for p in out.rglob("*") if p.name.startswith(".tmp-") or ".old" in p.name]
    assert not leftovers and not any((out / batch.WORK_DIR).iterdir())
    for set_id, record in finished_before.items():  # not redone
        assert json.loads((out / set_id / batch.RECORD_NAME).read_text())["analysed_at"] == record["analysed_at"]
    with sqlite3.connect(out / batch.DB_NAME) as db:
        assert sorted(r[0] for r in db.execute("SELECT set_id FROM sets")) == sorted(r["set_id"] for r in rows)


def crash_on_marked_videos(job: Job, settings: Settings) -> dict:
    """A stand-in worker task: dies like a native crash on videos named 'crash*', else succeeds."""
    staging = batch._new_staging(Path(settings.out), job)
    if Path(job.video).name.startswith("crash"):
        os._exit(3)
    record = {**batch._base_record(job, settings), "seconds": 0.0}
    (staging / batch.RECORD_NAME).write_text(json.dumps(record))
    batch.publish(staging, Path(settings.out) / job.set_id, Path(settings.out) / batch.WORK_DIR)
    return record


@pytest.mark.slow  # worker processes
def test_a_video_that_kills_its_worker_gets_an_error_entry_and_the_rest_finish(tmp_path):
    jobs = [Job(video=str(tmp_path / name), client="c", set_id=f"c/{Path(name).stem}")
            for name in ("a.mp4", "crash.mp4", "b.mp4", "c.mp4")]
    settings = Settings(out=str(tmp_path / "out"), cache=str(tmp_path / "cache"))
    records = []
    batch.run_local(jobs, settings, 2, records.append, task=crash_on_marked_videos)
    by_id = {r["set_id"]: r for r in records}
    assert sorted(by_id) == sorted(j.set_id for j in jobs) and len(records) == len(jobs)
    assert by_id["c/crash"]["status"] == "error" and "died" in by_id["c/crash"]["error"]
    assert all(by_id[f"c/{n}"]["status"] == "ok" for n in "abc")
    assert not any((tmp_path / "out" / batch.WORK_DIR).iterdir())


@pytest.mark.slow  # worker processes
def test_a_forked_reanalysis_worker_that_dies_costs_one_error_entry(tmp_path):
    import threading

    if threading.active_count() > 1:  # run_reanalyses would not fork, and the stand-in crash would end pytest
        pytest.skip("another thread is running in this test process")
    jobs = [Job(video=str(tmp_path / name), client="c", set_id=f"c/{Path(name).stem}")
            for name in ("a.mp4", "crash.mp4", "b.mp4", "c.mp4", "d.mp4")]
    settings = Settings(out=str(tmp_path / "out"), cache=str(tmp_path / "cache"))
    records, started = [], []
    batch_pool.run_reanalyses(jobs, settings, 2, records.append, on_started=lambda: started.append(len(records)),
                              task=crash_on_marked_videos)
    by_id = {r["set_id"]: r for r in records}
    assert sorted(by_id) == sorted(j.set_id for j in jobs) and len(records) == len(jobs)
    assert by_id["c/crash"]["status"] == "error" and "died" in by_id["c/crash"]["error"]
    assert all(by_id[f"c/{n}"]["status"] == "ok" for n in "abcd")
    assert started == [0], "the progress bar starts once, before any result"
    assert not any((tmp_path / "out" / batch.WORK_DIR).iterdir())


def native_thread_settings(job: Job, settings: Settings) -> dict:
    """A stand-in worker task: reports the thread settings its process started with."""
    import cv2

    return {"set_id": job.set_id, "cv2_threads": cv2.getNumThreads(),
            "env": {k: os.environ.get(k) for k in batch_pool.WORKER_THREAD_ENV}}


@pytest.mark.slow  # worker processes
def test_spawned_workers_run_native_helpers_on_one_thread(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # set by the user: left alone
    jobs = [Job(video=str(tmp_path / f"{n}.mp4"), client="c", set_id=f"c/{n}") for n in "ab"]
    before = dict(os.environ)
    records = []
    batch.run_local(jobs, Settings(out=str(tmp_path), cache=str(tmp_path)), 2, records.append, task=native_thread_settings)
    assert len(records) == 2
    for record in records:
        assert record["cv2_threads"] == 1
        assert record["env"] == {**batch_pool.WORKER_THREAD_ENV, "OMP_NUM_THREADS": "3"}
    assert dict(os.environ) == before, "this process's environment is restored"


# ----------------------------------------------------------------------------- Dask
@pytest.mark.dask
def test_dask_local_cluster_run_equals_the_local_run(local_run, clients, tmp_path):
    distributed = pytest.importorskip("distributed", reason="Dask distributed is not installed (pip install 'formcheck[dask]')")
    summary, local_out = local_run
    out = tmp_path / "out_dask"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        on_dask = run_batch([str(clients)], out, scheduler=cluster.scheduler_address, quiet=True)
    keys = ("set_id", "client", "video", "status", "error", "date", "settings", "source", "summary", "stills")
    assert [{k: r.get(k) for k in keys} for r in on_dask.records] == [{k: r.get(k) for k in keys} for r in summary.records]
    for record in summary.records:
        local_report = local_out / record["set_id"] / "report.json"
        if local_report.exists():
            assert json.loads((out / record["set_id"] / "report.json").read_text()) == json.loads(local_report.read_text())
    assert (out / "roster.csv").read_text() == (local_out / "roster.csv").read_text()
