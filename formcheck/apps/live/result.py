"""What a live session did: :class:`LiveResult` (``live.json`` and the summary printed at the end)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from formcheck.analysis.report import RepResult, Report


@dataclass
class LiveResult:
    """What a live session did, for the summary and the benchmark.

    Attributes
    ----------
    reps : list of RepResult
        Reps as counted live (causal analyser).
    exercise : str
    processed : int
        Frames analysed and drawn.
    captured, dropped : int
        Frames the source delivered, and those replaced by a newer one before
        being taken (the price of never queueing).
    skipped_paused : int
        Frames discarded while paused.
    latencies_ms : ndarray
        Per processed frame: capture → overlay shown (or drawn, headless).
    stage_ms : dict of str → list of float
        The same split into ``wait`` (captured → taken), ``pose``,
        ``analysis`` (analyser + framing check) and ``overlay`` (draw + show).
    pending_max : int
        Largest number of captured frames waiting at any time (the backlog):
        1 at most by construction.
    paused_s : float
    quit_by_user : bool
    person_seen : bool
    report : Report or None
        The recorded session's report (``--record``).
    """

    reps: list[RepResult] = field(default_factory=list)
    exercise: str = "auto"
    processed: int = 0
    captured: int = 0
    dropped: int = 0
    skipped_paused: int = 0
    latencies_ms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    stage_ms: dict[str, list[float]] = field(default_factory=dict)
    pending_max: int = 0
    paused_s: float = 0.0
    quit_by_user: bool = False
    person_seen: bool = False
    report: Report | None = None

    def to_dict(self) -> dict:
        """``live.json``: what the lifter was told, and how the session kept up."""
        lat = self.latencies_ms
        stats = np.percentile(lat, [50, 95]).tolist() + [float(lat.max())] if len(lat) else [None] * 3
        return {
            "exercise": self.exercise,
            "rep_count": len(self.reps),
            "reps": [rep.to_dict() for rep in self.reps],
            "frames": {
                "captured": self.captured, "processed": self.processed, "dropped": self.dropped,
                "skipped_paused": self.skipped_paused, "max_waiting": self.pending_max,
            },
            "latency_ms": dict(zip(("p50", "p95", "max"), (None if v is None else round(v, 1) for v in stats))),
            "paused_s": round(self.paused_s, 2),
            "quit_by_user": self.quit_by_user,
        }

    def latency_summary(self) -> str:
        if not len(self.latencies_ms):
            return "no frames processed"
        p50, p95 = np.percentile(self.latencies_ms, [50, 95])
        return f"latency p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {self.latencies_ms.max():.0f} ms"

    def summary(self) -> str:
        n = len(self.reps)
        lines = [
            f"Live session: {n} rep{'s' if n != 1 else ''} ({self.exercise}); "
            f"{self.processed} frames analysed, {self.dropped} dropped to keep up"
            + (f", {self.skipped_paused} skipped while paused ({self.paused_s:.1f} s)" if self.skipped_paused or self.paused_s else "")
            + f"; {self.latency_summary()}"
        ]
        lines += [f"  {rep_line(rep)}" for rep in self.reps]
        return "\n".join(lines)


def rep_line(rep: RepResult) -> str:
    """``Rep 3: Sit deeper: hips below the knees.`` or ``Rep 1: good``."""
    return f"Rep {rep.index}: {rep.cue}" if rep.cue else f"Rep {rep.index}: good"


def spoken_cue(rep: RepResult) -> str:
    return f"Rep {rep.index}. {rep.cue}" if rep.cue else f"Rep {rep.index}, good."
