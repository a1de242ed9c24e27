"""Fault records and the interface every fault check implements.

A *fault check* is a pure function ``check(ctx: RepContext) -> Fault | None``,
wrapped in a :class:`Check` that says its code, its default
:class:`Threshold`, what it needs (the spine estimate) and which camera views
can support it. Exercise plug-ins list their checks; the analyser withholds a
check where its needs or views are not met, and otherwise calls it with the
rep's :class:`RepContext` (the rep, the kinematic signals, the spine estimate
and the thresholds in force).

Severity is graded from a measured value against two thresholds: at or past
``caution`` → ``"caution"``, at or past ``fault`` → ``"fault"``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from formcheck.faults.catalogue import CatalogueEntry
from formcheck.reps import Rep
from formcheck.spine import SpineEstimate, SpineRepSummary

SEVERITIES = ("caution", "fault")


@dataclass(frozen=True)
class Fault:
    """One fault found in one rep.

    Attributes
    ----------
    code : str
        Stable identifier, e.g. ``"shallow_depth"``.
    severity : str
        ``"caution"`` or ``"fault"``.
    rep : int
        1-based rep number.
    start_frame, end_frame : int
        ``[start, end)`` frames where it shows.
    start_s, end_s : float
        The same span in seconds.
    value : float
        The measured value the verdict rests on.
    threshold : float
        The threshold that value crossed (the caution or fault level).
    unit : str
    cue : str
        One short coaching cue.
    message : str
        What was measured, in plain words.
    confidence : float
        0–1: how far the value is past the threshold, scaled down by pose quality.
    """

    code: str
    severity: str
    rep: int
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    value: float
    threshold: float
    unit: str
    cue: str
    message: str
    confidence: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Threshold:
    """Caution and fault levels of one measured value; ``higher_is_worse`` says
    which direction is bad."""

    caution: float
    fault: float
    higher_is_worse: bool = True

    def grade(self, value: float) -> tuple[str | None, float]:
        """Severity (None if fine) and the threshold crossed.

        >>> limit = Threshold(caution=25.0, fault=35.0)
        >>> limit.grade(30.0), limit.grade(40.0), limit.grade(10.0)[0]
        (('caution', 25.0), ('fault', 35.0), None)
        >>> Threshold(caution=0.3, fault=0.2, higher_is_worse=False).grade(0.25)   # a rushed descent (s)
        ('caution', 0.3)
        """
        if not np.isfinite(value):
            return None, float("nan")
        sign = 1.0 if self.higher_is_worse else -1.0
        if sign * (value - self.fault) >= 0:
            return "fault", self.fault
        if sign * (value - self.caution) >= 0:
            return "caution", self.caution
        return None, float("nan")

    def confidence(self, value: float, quality: float = 1.0) -> float:
        """Grows from 0.5 at the caution level to 1 at twice the caution→fault step."""
        step = abs(self.fault - self.caution) or 1.0
        past = (value - self.caution) * (1 if self.higher_is_worse else -1)
        return float(np.clip(0.5 + 0.25 * past / step, 0.0, 1.0) * np.clip(quality, 0.0, 1.0))


@dataclass(frozen=True)
class RepContext:
    """Everything a fault check may look at for one rep."""

    rep: Rep
    time_s: np.ndarray
    signals: Mapping[str, np.ndarray]
    view: str
    thresholds: Mapping[str, Threshold]
    quality: float = 1.0
    spine: SpineEstimate | None = None  # when the spine stage ran
    extra: Mapping[str, Any] = field(default_factory=dict)
    spine_rep: SpineRepSummary | None = None  # the spine over this rep, when the clip's spine is judged

    def phase(self, name: str) -> slice:
        start, stop = self.rep.phases.get(name, (self.rep.bottom, self.rep.bottom + 1))
        return slice(start, stop)

    def make_fault(
        self, code: str, value: float, span: tuple[int, int], cue: str, message: str, unit: str
    ) -> Fault | None:
        """Grade ``value`` against ``thresholds[code]`` and build the Fault, or None if fine."""
        threshold = self.thresholds[code]
        severity, crossed = threshold.grade(value)
        if severity is None:
            return None
        start, end = int(span[0]), int(max(span[1], span[0] + 1))
        last = min(end, len(self.time_s)) - 1
        return Fault(
            code=code,
            severity=severity,
            rep=self.rep.index,
            start_frame=start,
            end_frame=end,
            start_s=float(self.time_s[start]),
            end_s=float(self.time_s[last]),
            value=float(value),
            threshold=float(crossed),
            unit=unit,
            cue=cue,
            message=message,
            confidence=threshold.confidence(value, self.quality),
        )


@dataclass(frozen=True)
class NotJudged:
    """What a check returns when what it needs was hidden at the moment it judges.

    The rep then lists the check under ``not_assessed`` with this reason
    ("the knees were behind the plate at the start of the pull") instead of
    grading a guess.
    """

    reason: str


FaultCheck = Callable[[RepContext], "Fault | NotJudged | None"]


#: What a check may need beyond the kinematic signals.
NEEDS = ("spine",)


@dataclass(frozen=True)
class Check:
    """One fault check of an exercise.

    Attributes
    ----------
    code : str
        Stable fault code (:mod:`formcheck.faults.catalogue`).
    fn : callable
        ``fn(ctx: RepContext) -> Fault | None``.
    threshold : Threshold
        Default caution and fault levels (a profile may override them).
    needs : tuple of str
        What the check reads beyond the kinematic signals: ``"spine"`` (the
        spine estimate). Where that is withheld, so is the check, with the
        spine's reason.
    views : tuple of str or None
        Camera views that can support the check (None: any view).
    entry : CatalogueEntry or None
        Words and cue priority for a code the catalogue does not know yet
        (a new exercise's own fault).

    Examples
    --------
    >>> def too_deep(ctx):
    ...     return None
    >>> check = Check("too_deep", too_deep, Threshold(caution=10.0, fault=20.0), views=("side",))
    >>> check.code, check.needs_spine, check.threshold.grade(15.0)
    ('too_deep', False, ('caution', 10.0))
    """

    code: str
    fn: FaultCheck
    threshold: Threshold
    needs: tuple[str, ...] = ()
    views: tuple[str, ...] | None = None
    entry: CatalogueEntry | None = None

    def __post_init__(self) -> None:
        unknown = set(self.needs) - set(NEEDS)
        if unknown:
            raise ValueError(f"check {self.code}: unknown need(s) {sorted(unknown)}; choose from {NEEDS}")
        if self.entry is not None and self.entry.code != self.code:
            raise ValueError(f"check {self.code}: its catalogue entry is for {self.entry.code}")

    def __call__(self, ctx: RepContext) -> Fault | None:
        return self.fn(ctx)

    @property
    def needs_spine(self) -> bool:
        return "spine" in self.needs

    def with_threshold(self, threshold: Threshold) -> "Check":
        """The same check with another default threshold."""
        return dataclasses.replace(self, threshold=threshold)
