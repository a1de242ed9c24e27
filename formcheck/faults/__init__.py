"""Faults stage: what a fault is, how it is graded, and the checks shared by exercises.

:class:`Fault` (one fault in one rep), :class:`Threshold` (caution and fault
levels), :class:`RepContext` (what a check sees), :class:`Check` (a check with
its code, default threshold, needs and views), the fault catalogue
(:mod:`formcheck.faults.catalogue`: tiers, words, titles) and the spine's
checks (:mod:`formcheck.faults.spine`).
"""

from formcheck.faults.catalogue import CATALOGUE, CatalogueEntry, cue_sort_key, entry, is_info
from formcheck.faults.core import Check, Fault, FaultCheck, NotJudged, RepContext, Threshold

__all__ = [
    "CATALOGUE", "CatalogueEntry", "Check", "Fault", "FaultCheck", "NotJudged", "RepContext", "Threshold", "cue_sort_key", "entry",
    "is_info",
]
