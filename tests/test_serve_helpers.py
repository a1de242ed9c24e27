"""Helpers of the ``formcheck serve`` tests: a real server process on 127.0.0.1, a browser, a fake camera.

(No tests here; the other ``test_serve*`` modules import it.)
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import CLIPS

#: A short real side-view squat set (5 reps by its label; ``formcheck analyze`` counts 5).
SQUAT_CLIP = CLIPS / "squat" / "coach_pvc_front_squat.mp4"
#: A real side-view goblet squat set that ends standing (5 reps; the live analyser at 15 fps counts 5 too).
LIVE_CLIP = CLIPS / "squat" / "coach_goblet_squat.mp4"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

needs_chromium = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``formcheck serve`` in a subprocess, always bound to 127.0.0.1."""

    def __init__(self, data: Path, *args: str, port: int | None = None):
        self.data = Path(data)
        self.port = port or free_port()
        self.args = args
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = self.data.parent / f"serve-{self.port}.log"
        self.process: subprocess.Popen | None = None
        self.output = ""

    def start(self, timeout: float = 60.0) -> "Server":
        command = [sys.executable, "-m", "formcheck", "serve", "--port", str(self.port), "--data", str(self.data),
                   "--host", "127.0.0.1", *self.args]
        self._log = open(self.log, "w")
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"formcheck serve exited: {self.log.read_text()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                self.output = self.log.read_text()
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"formcheck serve did not start: {self.log.read_text()}")

    @property
    def token(self) -> str | None:
        found = re.search(r"\?token=([\w-]+)", self.log.read_text())
        return found.group(1) if found else None

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop it (SIGKILL kills the whole process group as a crash would)."""
        if self.process is None:
            return
        if sig == signal.SIGKILL:
            os.killpg(self.process.pid, signal.SIGKILL)
        else:
            self.process.send_signal(sig)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
        self._log.close()
        self.output = self.log.read_text()
        self.process = None

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def wait_for(client, analysis_id: str, statuses=("done", "error"), timeout: float = 300.0, seen: list | None = None) -> dict:
    """Poll ``GET /api/analyses/{id}`` until its status is one of ``statuses``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get(f"/api/analyses/{analysis_id}").json()
        if seen is not None:
            seen.append(state)
        if state["status"] in statuses:
            return state
        time.sleep(0.2)
    raise AssertionError(f"analysis {analysis_id} still {state['status']} after {timeout} s")


def write_y4m(clip: Path, out: Path, size=(640, 480), still_tail_s: float = 0.0) -> tuple[int, float]:
    """The clip as a YUV4MPEG2 (I420) file Chromium's fake camera can play, letterboxed to ``size``.

    ``still_tail_s`` seconds of the last frame are added so that the camera's
    loop does not restart the set while a test is still watching. Returns
    ``(frames written, fps)``.
    """
    import cv2
    import numpy as np

    from formcheck.io.video import read_frames

    width, height = size
    frames = 0
    with read_frames(clip) as reader, open(out, "wb") as fh:
        fps = reader.info.fps or 30.0
        num, den = (30000, 1001) if abs(fps - 29.97) < 0.01 else (round(fps * 1000), 1000)
        fh.write(f"YUV4MPEG2 W{width} H{height} F{num}:{den} Ip A1:1 C420jpeg\n".encode())
        last = None
        for _, frame in reader:
            last = _letterbox(frame, width, height, cv2, np)
            fh.write(b"FRAME\n" + cv2.cvtColor(last, cv2.COLOR_BGR2YUV_I420).tobytes())
            frames += 1
        if last is not None:
            for _ in range(int(round(still_tail_s * fps))):
                fh.write(b"FRAME\n" + cv2.cvtColor(last, cv2.COLOR_BGR2YUV_I420).tobytes())
    return frames, fps


def _letterbox(frame, width, height, cv2, np):
    scale = min(width / frame.shape[1], height / frame.shape[0])
    w, h = int(round(frame.shape[1] * scale)), int(round(frame.shape[0] * scale))
    canvas = np.zeros((height, width, 3), np.uint8)
    x, y = (width - w) // 2, (height - h) // 2
    canvas[y:y + h, x:x + w] = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
    return canvas


def chromium_driver(profile: Path, size=(1280, 900), fake_camera: Path | None = None):
    """Selenium driving Debian's chromium, headless, with a fresh profile (and a fake camera fed from a .y4m)."""
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not look for a driver online
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}", "--hide-scrollbars"):
        options.add_argument(flag)
    if fake_camera is not None:
        for flag in ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                     f"--use-file-for-fake-video-capture={fake_camera}", "--autoplay-policy=no-user-gesture-required"):
            options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))


def page_screenshot(driver, path: Path, width: int, height: int) -> None:
    """A screenshot of the whole page at this width (the window grown to the page's height)."""
    driver.set_window_size(width, height)
    full = driver.execute_script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
    driver.set_window_size(width, max(height, min(int(full) + 20, 4000)))
    driver.execute_script("window.scrollTo(0, 0)")
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
    driver.set_window_size(width, height)
