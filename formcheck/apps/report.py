"""``formcheck report DIR``: write report.html again for an analysis folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from formcheck.errors import InputError
from formcheck.render.html import write_html_report

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
    out_dir = Path(args.dir)
    if not out_dir.is_dir():
        raise InputError(f"{out_dir} is not a folder")
    video = getattr(args, "video", None)
    if video is not None and not Path(video).is_file():
        raise InputError(f"{video} does not exist")
    path = write_html_report(out_dir, video, client=getattr(args, "client", None))
    print(path)
    return 0
