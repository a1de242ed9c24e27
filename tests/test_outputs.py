"""One output set per run (formcheck.apps.outputs): staged beside the folder, swapped in whole,
never mixed with another run's files, never touching a file formcheck did not write."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from formcheck.apps import outputs
from formcheck.apps.outputs import MARKER, StagedOutput, foreign_files, is_output_set, remove_abandoned, set_files
from formcheck.errors import InputError


def make_set(out: Path, files: dict[str, str]) -> Path:
    with StagedOutput(out) as stage:
        for name, text in files.items():
            (stage.path / name).write_text(text)
    return out


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def staging_folders(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".formcheck-" in p.name)


def test_a_set_appears_whole_and_lists_exactly_its_files(tmp_path):
    out = make_set(tmp_path / "results", {"report.json": "{}", "angles.csv": "frame\n"})
    assert set_files(out) == {"report.json", "angles.csv"} == {p.name for p in out.iterdir()} - {MARKER}
    assert is_output_set(out) and staging_folders(tmp_path) == []
    assert json.loads((out / MARKER).read_text())["format"] == "formcheck.output-set"


def test_a_new_set_replaces_the_old_one_whole(tmp_path):
    out = make_set(tmp_path / "results", {"report.json": "old", "annotated.mp4": "old video"})
    make_set(out, {"report.json": "new"})
    assert contents(out) == {MARKER: (out / MARKER).read_bytes(), "report.json": b"new"}  # no old video beside
    assert staging_folders(tmp_path) == []


@pytest.mark.parametrize("stop", [RuntimeError, KeyboardInterrupt])
def test_a_failed_run_leaves_the_previous_set_and_no_staging_folder(tmp_path, stop):
    out = make_set(tmp_path / "results", {"report.json": "old"})
    before = contents(out)
    with pytest.raises(stop):
        with StagedOutput(out) as stage:
            (stage.path / "report.json").write_text("half of the new")
            raise stop("the run broke")
    assert contents(out) == before and staging_folders(tmp_path) == []


def test_a_failed_run_removes_the_folders_it_made(tmp_path):
    with pytest.raises(RuntimeError):
        with StagedOutput(tmp_path / "a" / "b" / "results"):
            raise RuntimeError("the run broke")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_holding_other_files_is_refused_and_left_alone(tmp_path):
    desktop = tmp_path / "Desktop"
    desktop.mkdir()
    (desktop / "holiday.jpg").write_bytes(b"a photo")
    (desktop / "report.json").write_text("a report of the user's own")
    before = contents(desktop)
    with pytest.raises(InputError, match=r"holds files formcheck did not write \(holiday.jpg, report.json\)"):
        StagedOutput(desktop).open()
    assert contents(desktop) == before and staging_folders(tmp_path) == []


def test_a_file_added_to_a_set_makes_it_the_users_folder(tmp_path):
    out = make_set(tmp_path / "results", {"report.json": "{}"})
    (out / "notes.txt").write_text("my notes on the set")
    assert foreign_files(out) == ["notes.txt"]
    with pytest.raises(InputError, match="notes.txt"):
        StagedOutput(out).open()
    assert (out / "notes.txt").read_text() == "my notes on the set"


def test_a_folder_of_an_older_formcheck_is_formchecks(tmp_path):
    old = tmp_path / "results"
    old.mkdir()
    for name in ("angles.csv", "annotated.mp4", "report.html", ".annotated.1a2b3c4d.part.mp4"):
        (old / name).write_text("from formcheck 0.1")
    (old / "report.json").write_text('{"schema_version": 3, "reps": []}')
    assert foreign_files(old) == []
    (old / "report.json").write_text('{"my": "own report"}')  # no: then nothing shows formcheck wrote any of it
    assert len(foreign_files(old)) == 5
    (old / "report.json").write_text('{"schema_version": 3, "reps": []}')
    make_set(old, {"report.json": "new"})
    assert sorted(p.name for p in old.iterdir()) == [MARKER, "report.json"]  # the stale part file went with the set


def test_files_and_read_only_folders_are_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        StagedOutput(tmp_path / "file").open()
    with pytest.raises(InputError, match="cannot be made: .* is a file"):
        StagedOutput(tmp_path / "file" / "results").open()
    with unwritable(tmp_path / "locked") as locked, pytest.raises(InputError):
        StagedOutput(locked / "results").open()


def test_a_staging_folder_left_by_a_killed_run_is_removed_but_a_running_ones_is_kept(tmp_path):
    out = make_set(tmp_path / "results", {"report.json": "old"})
    killed = tmp_path / ".results.formcheck-new-4242-0123abcd"
    running = tmp_path / ".results.formcheck-new-4343-89abcdef"
    for folder in (killed, running):
        folder.mkdir()
        (folder / "annotated.mp4").write_bytes(b"half")
    fd = os.open(running, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as a live run holds its own
        assert remove_abandoned(out) == 1
        assert not killed.exists() and running.is_dir()
    finally:
        os.close(fd)
    unrelated = tmp_path / ".results.formcheck-notes"
    unrelated.mkdir()
    assert remove_abandoned(out) == 1 and unrelated.is_dir()  # only names formcheck gives are touched


def test_a_set_left_aside_between_two_renames_is_put_back(tmp_path):
    """Where the system has no atomic exchange, the swap is two renames; a crash between them leaves
    the previous set beside the folder, and the next run restores it before anything else."""
    out = make_set(tmp_path / "results", {"report.json": "old"})
    before = contents(out)
    out.rename(tmp_path / ".results.formcheck-old-4242-0123abcd")
    remove_abandoned(out)
    assert contents(out) == before and staging_folders(tmp_path) == []


def test_without_an_atomic_exchange_the_two_renames_still_replace_the_set(tmp_path, monkeypatch):
    out = make_set(tmp_path / "results", {"report.json": "old", "angles.csv": "old"})
    monkeypatch.setattr(outputs, "_exchange", lambda a, b: False)  # as on macOS or a file system without it
    make_set(out, {"report.json": "new"})
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "report.json"] and staging_folders(tmp_path) == []


def test_kept_files_are_carried_over_not_rewritten(tmp_path):
    out = make_set(tmp_path / "results", {"report.json": "{}", "landmarks.npz": "track"})
    inode = (out / "landmarks.npz").stat().st_ino
    with StagedOutput(out, keep=["report.json", "landmarks.npz"]) as stage:
        (stage.path / "report.html").write_text("<html>")
    assert (out / "landmarks.npz").stat().st_ino == inode
    assert set_files(out) == {"report.json", "landmarks.npz", "report.html"}


def test_names_longer_than_a_staging_suffix_allows_and_names_that_are_not_utf8(tmp_path):
    for name in ("r" * 255, os.fsdecode(b"caf\xe9 results")):
        out = make_set(tmp_path / name, {"report.json": "{}"})
        assert is_output_set(out)
    assert staging_folders(tmp_path) == []


def test_a_symbolic_link_to_the_folder_stays_a_link(tmp_path):
    real = make_set(tmp_path / "real", {"report.json": "old"})
    (tmp_path / "link").symlink_to(real)
    make_set(tmp_path / "link", {"report.json": "new"})
    assert (tmp_path / "link").is_symlink() and (real / "report.json").read_text() == "new"


def test_the_current_folder_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="current folder"):
        StagedOutput(".").open()


# ----------------------------------------------------------------------------- a folder even root cannot write
@contextlib.contextmanager
def unwritable(folder: Path):
    """A folder nobody may write to: mode 555, or for root (whom modes do not stop) the immutable flag."""
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
        pytest.skip("running as root on a file system without the immutable flag: no folder is read-only")
    try:
        yield folder
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
