"""A window for the live mode, and whether one can be opened here.

The GUI build of OpenCV aborts the whole process when ``cv2.imshow`` finds no
display (NOTES), so :func:`display_problem` probes one in a child process
first; :class:`Window` is only created after it returned None.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

WINDOW_TITLE = "formcheck live"


def display_problem(env: dict[str, str] | None = None, probe: bool = True) -> str | None:
    """Why no window can be opened here, or None if one can.

    On Linux the OpenCV GUI build (Qt, X11 only) needs an X display. An
    unset ``DISPLAY``/``WAYLAND_DISPLAY`` is refused at once; otherwise a child
    process opens and closes a window, because a display that is set but
    unreachable makes Qt abort the process (uncatchable), which must not
    happen to this one.
    """
    env = dict(os.environ if env is None else env)
    if not sys.platform.startswith("linux"):
        return None
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return "no display to show the live window (DISPLAY is not set)"
    if not probe:
        return None
    code = "import cv2; cv2.namedWindow('formcheck-probe'); cv2.waitKey(1); cv2.destroyAllWindows(); cv2.waitKey(1)"
    try:
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, timeout=30
        )
    except subprocess.TimeoutExpired:
        return "the display did not answer within 30 s"
    if result.returncode != 0:
        where = env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")
        return f"cannot open a window on display {where!r} (OpenCV's window needs X11 or XWayland)"
    return None


class Display(Protocol):
    """Where frames are shown and keys come from (a window, or a test double)."""

    def show(self, frame: np.ndarray) -> None: ...

    def poll(self, wait_ms: int = 1) -> str | None:
        """``"quit"``, ``"reset"``, ``"pause"`` or None."""

    def close(self) -> None: ...


class Window:
    """An OpenCV window: shows frames and turns keys into commands.

    Only create it once :func:`display_problem` returned None.
    """

    KEYS = {ord("q"): "quit", ord("Q"): "quit", 27: "quit", ord("r"): "reset", ord("R"): "reset", ord(" "): "pause"}

    def __init__(self, title: str = WINDOW_TITLE) -> None:
        # cv2 points Qt at its own font folder, which the wheel does not ship;
        # Qt then complains on stderr at every window. Use the system's fonts.
        fonts = Path("/usr/share/fonts/truetype")
        if not Path(os.environ.get("QT_QPA_FONTDIR", "/nonexistent")).is_dir() and fonts.is_dir():
            os.environ["QT_QPA_FONTDIR"] = str(fonts)
        self.title = title
        cv2.namedWindow(title, cv2.WINDOW_AUTOSIZE)
        self._shown = False

    def show(self, frame: np.ndarray) -> None:
        cv2.imshow(self.title, frame)
        self._shown = True

    def poll(self, wait_ms: int = 1) -> str | None:
        code = cv2.waitKey(max(1, wait_ms))
        if code >= 0:
            return self.KEYS.get(code & 0xFF)
        # The window's close button counts as quitting.
        if self._shown and cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1:
            return "quit"
        return None

    def close(self) -> None:
        cv2.destroyWindow(self.title)
        cv2.waitKey(1)
