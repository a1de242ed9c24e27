"""The fault catalogue: every stable fault code with its cue priority and words.

The exercise plug-ins implement the checks; this table says, for every code,
how urgent it is when choosing the one cue of a rep (``tier``), how it reads
in the set summary ("reps 3–5: back rounded as you got tired") and as a
heading in the report (``title``), and whether it is only information
(shown, never a fault). A plug-in that brings a new code gives its entry with
the check (:class:`formcheck.faults.core.Check`); registering the exercise
adds it here (:func:`add_entry`).

Cue priority is safety first: the spine before the load path and joint
positions, before depth and range, before tempo. Within a tier a ``fault``
outranks a ``caution``, then the plug-in's own order of checks decides.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Cue tiers, most urgent first.
TIERS = ("spine", "position", "range", "tempo")


@dataclass(frozen=True)
class CatalogueEntry:
    """One fault code.

    Attributes
    ----------
    code : str
        Stable identifier used in reports and profiles.
    tier : str
        One of :data:`TIERS` (cue priority).
    phrase : str
        What happened, in a few words a lifter understands ("back rounded").
    measure : str
        What the check measures and in which unit (for profiles and docs).
    info_only : bool
        Reported as information, never as a fault and never the cue.
    title : str
        Heading in the report ("Rounded lower back"); default: the code in words.
    """

    code: str
    tier: str
    phrase: str
    measure: str = ""
    info_only: bool = False
    title: str = ""

    def __post_init__(self) -> None:
        if self.tier not in TIERS:
            raise ValueError(f"catalogue entry {self.code}: tier {self.tier!r} is not one of {TIERS}")
        if not self.title:
            object.__setattr__(self, "title", self.code.replace("_", " ").capitalize())

    @property
    def rank(self) -> int:
        return TIERS.index(self.tier)


CATALOGUE: dict[str, CatalogueEntry] = {e.code: e for e in (
    # spine: safety first
    CatalogueEntry("lumbar_flexion", "spine", "back rounded",
                   "lower-back rounding beyond the lifter's neutral, held 0.25 s (swing: 0.1 s) (deg)", title="Rounded lower back"),
    CatalogueEntry("butt_wink", "spine", "lower back tucked under at the bottom",
                   "lower-back rounding at the bottom vs the start of the descent (deg)", title="Butt wink"),
    CatalogueEntry("lumbar_hyperextension", "spine", "lower back over-arched",
                   "squat: lower-back arch vs the start of the descent; swing: lean back at the top vs standing (deg)", title="Over-arched lower back"),
    CatalogueEntry("lockout_hyperextension", "spine", "leaned back at lockout",
                   "lean behind vertical at the top, held 0.25 s (deg)", title="Leaning back at lockout"),
    # load path and joint positions
    CatalogueEntry("knee_valgus", "position", "knees caved in",
                   "knee moving inside the hip-ankle line vs standing, worse leg (% of leg length)", title="Knees caving in"),
    CatalogueEntry("hips_rise_early", "position", "hips rose before the chest",
                   "trunk tipping toward horizontal over the first 40 % of the pull (deg)", title="Hips rise early"),
    CatalogueEntry("squatted_start", "position", "started with the hips too low",
                   "trunk angle from vertical at the start of the pull, hips near knee height (deg)", title="Squatted start"),
    CatalogueEntry("bar_drift", "position", "the weight drifted away from the legs",
                   "forward travel of the hands beyond the set-up, below mid-thigh, held 0.25 s (cm)", title="Bar drifting forward"),
    CatalogueEntry("squatting_the_swing", "position", "squatted the swing instead of hinging",
                   "knee bend at the bottom of the swing beyond standing (deg)", title="Squatting the swing"),
    CatalogueEntry("knees_too_bent", "position", "knees bent too much (it became a squat)",
                   "knee bend at the bottom beyond standing (deg)", title="Knees too bent"),
    CatalogueEntry("excessive_forward_lean", "position", "chest fell forward",
                   "trunk angle minus shin angle at the bottom, vs standing (deg)", title="Too much forward lean"),
    CatalogueEntry("lateral_shift", "position", "hips shifted to one side",
                   "sideways hip travel over the feet vs standing (% of stance width)", title="Hips shifted to one side"),
    CatalogueEntry("heel_rise", "position", "heels came up",
                   "heel height above the toes near the bottom vs standing (cm)", title="Heels rising"),
    # depth and range of motion
    CatalogueEntry("shallow_depth", "range", "squat too shallow",
                   "thigh angle above parallel at the bottom (deg; 0 = hip level with the knee)", title="Shallow depth"),
    CatalogueEntry("insufficient_hinge", "range", "hips did not hinge far enough",
                   "hip flexion reached at the bottom beyond standing (deg)", title="Not enough hinge"),
    CatalogueEntry("soft_lockout", "range", "did not finish tall at the top",
                   "hip (and, side view, knee) angle short of straight at the top (deg)", title="Soft lockout"),
    # tempo
    CatalogueEntry("tempo", "tempo", "rushed the way down",
                   "seconds of the way down, timed over 5-95 % of its range (s)"),
    # information only
    CatalogueEntry("knees_forward", "position", "knees travelled well past the toes",
                   "shin angle from vertical at the bottom vs standing (deg)", info_only=True, title="Knees far forward"),
)}

#: Advice code for checks that the camera view cannot support.
CAMERA_VIEW = "camera_view"


def entry(code: str) -> CatalogueEntry:
    """Catalogue entry of ``code`` (unknown codes rank with positions).

    >>> entry("lumbar_flexion").title, entry("lumbar_flexion").tier
    ('Rounded lower back', 'spine')
    >>> entry("no_such_code").phrase
    'no such code'
    """
    return CATALOGUE.get(code, CatalogueEntry(code, "position", code.replace("_", " ")))


def add_entry(new: CatalogueEntry) -> None:
    """Add a plug-in's own fault code; an existing code must not be redefined differently."""
    known = CATALOGUE.get(new.code)
    if known is not None and known != new:
        raise ValueError(f"fault code {new.code} is already in the catalogue with other words")
    CATALOGUE[new.code] = new


def cue_sort_key(code: str, severity: str, order: int) -> tuple[int, int, int]:
    """Sort key for choosing the one cue of a rep (lowest first)."""
    return entry(code).rank, 0 if severity == "fault" else 1, order


def is_info(code: str) -> bool:
    return entry(code).info_only
