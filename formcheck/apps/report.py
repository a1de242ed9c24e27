"""``formcheck report DIR``: write report.html again for an analysis folder.

The page is written as part of a new output set (:mod:`formcheck.apps.outputs`):
the set's other files are carried over (hard links) into a staging folder, the
page is built there from those files only, and the set is swapped in whole. A
failed or interrupted run leaves the folder as it was.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from formcheck.analysis.report import Report
from formcheck.apps.outputs import MARKER, StagedOutput, foreign_files, remove_abandoned
from formcheck.errors import InputError
from formcheck.io.files import file_sha256, printable, require_file
from formcheck.pose.track import PoseTrack
from formcheck.render.html import REPORT_NAME, write_html_report

DESCRIPTION = (
    "(Re)write DIR/report.html: one self-contained page (verdict, rep table, key frames, "
    "plots) that opens offline in any browser."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``formcheck report DIR``."""
    parser.add_argument("dir", help="an output folder of `formcheck analyze` (holds report.json)")
    parser.add_argument("--video", help="the analysed video, if it has moved since the analysis")
    parser.add_argument("--client", help="name of the person filmed, shown in the heading")


def run(args: argparse.Namespace) -> int:
    """(Re)write DIR/report.html and print its path."""
    remove_abandoned(Path(args.dir).resolve())  # a set a crash left aside comes back first
    out_dir = check_analysis_folder(Path(args.dir))
    video = getattr(args, "video", None)
    if video is not None:
        video = require_file(Path(video), "video file")
        check_is_analysed_video(out_dir, video)
    keep = sorted(name for name in _files(out_dir) if name not in (REPORT_NAME, MARKER))
    with StagedOutput(out_dir, keep=keep) as stage:
        write_html_report(stage.path, video, client=getattr(args, "client", None))
    print(printable(out_dir / REPORT_NAME))
    return 0


def check_analysis_folder(folder: Path) -> Path:
    """``folder`` if it is an output folder of ``formcheck analyze`` holding nothing else, else InputError."""
    if not folder.exists():
        raise InputError(f"{folder} is not a folder (it does not exist)")
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder (give the output folder of `formcheck analyze`)")
    if not (folder / "report.json").is_file():
        raise InputError(f"{folder / 'report.json'} does not exist (run `formcheck analyze VIDEO --out {folder}` first)")
    Report.load(folder, frames=False)  # a damaged report.json is named as such
    foreign = foreign_files(folder)
    if foreign:
        raise InputError(
            f"{folder} holds files formcheck did not write ({', '.join(foreign[:3])}); "
            "move them out, as the page is written by replacing the folder's set whole"
        )
    return folder


def check_is_analysed_video(folder: Path, video: Path) -> None:
    """InputError when the folder's track records its video's digest and ``video`` is another one."""
    try:
        track = PoseTrack.load(folder / "landmarks.npz") if (folder / "landmarks.npz").is_file() else None
    except InputError:
        return  # the page goes without the skeleton; it says so
    if track is not None and track.source_digest and file_sha256(video) != track.source_digest:
        raise InputError(f"--video {video} is not the video this analysis was made from (its content differs)")


def _files(folder: Path) -> list[str]:
    return [path.name for path in folder.iterdir() if path.is_file()]
