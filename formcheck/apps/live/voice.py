"""Spoken cues for the live mode, from an offline speech engine (nothing leaves the machine)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path


class Voice:
    """Speaks short phrases on its own thread with an offline speech engine.

    The newest phrase wins: one waiting while another is spoken is replaced,
    never queued, so speech cannot lag behind the set. The engine is
    ``espeak-ng`` or ``espeak`` (a subprocess) if on ``PATH``, else
    ``pyttsx3`` if installed. Use :meth:`open`, which warns and returns None
    when there is none.
    """

    def __init__(self, command: list[str] | None, warn: Callable[[str], None]) -> None:
        self.command = command  # None: pyttsx3
        self.spoken: list[str] = []
        self._warn = warn
        self._pending: str | None = None
        self._closing = False
        self._process: subprocess.Popen | None = None
        self._ready = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="formcheck-voice", daemon=True)
        self._thread.start()

    @classmethod
    def open(cls, warn: Callable[[str], None], path: str | None = None) -> "Voice | None":
        """A voice using the first speech engine found, or None (after one warning)."""
        for name in ("espeak-ng", "espeak"):
            exe = shutil.which(name, path=path)
            if exe:
                return cls([exe, "-s", "165"], warn)
        if importlib.util.find_spec("pyttsx3") is None:
            warn("no speech engine found (install espeak-ng, or pip install pyttsx3); cues are shown on screen only")
            return None
        return cls(None, warn)

    def say(self, text: str, urgent: bool = True) -> None:
        """Speak ``text`` next: it replaces a phrase still waiting, unless it is not
        ``urgent`` (set-up guidance), which never pushes out a rep's cue."""
        with self._ready:
            if urgent or self._pending is None:
                self._pending = text
                self._ready.notify_all()

    def close(self, finish: bool = True, timeout: float = 10.0) -> None:
        """Stop the voice; with ``finish`` the current and waiting phrase are spoken first."""
        with self._ready:
            if not finish:
                self._pending = None
                if self._process is not None and self._process.poll() is None:
                    self._process.terminate()
            self._closing = True
            self._ready.notify_all()
        self._thread.join(timeout)
        if self._process is not None and self._process.poll() is None:
            self._process.kill()

    def _run(self) -> None:
        engine = None
        while True:
            with self._ready:
                self._ready.wait_for(lambda: self._pending is not None or self._closing)
                if self._pending is None:
                    return
                text, self._pending = self._pending, None
            try:
                if self.command is not None:
                    with self._ready:
                        self._process = subprocess.Popen(
                            [*self.command, text], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
                        )
                    _, err = self._process.communicate(timeout=30)
                    said = [line.strip() for line in err.decode(errors="replace").splitlines() if line.strip()]
                    errors = [line for line in said if "error" in line.lower()]
                    # espeak-ng exits 0 even when it found no audio device, but says so.
                    if self._process.returncode not in (0, -15) or errors:  # -15: cut short by close()
                        raise RuntimeError((errors or said or [f"exit status {self._process.returncode}"])[-1])
                else:
                    if engine is None:
                        import pyttsx3

                        engine = pyttsx3.init()
                    engine.say(text)
                    engine.runAndWait()
                self.spoken.append(text)
            except Exception as exc:  # noqa: BLE001 - speech is optional: warn once, go quiet
                name = Path(self.command[0]).name if self.command else "pyttsx3"
                self._warn(f"speech engine {name} failed ({exc}; is there an audio output?); cues are shown on screen only")
                return
