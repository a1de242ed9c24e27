"""Threshold profiles: TOML files of caution and fault levels that users can copy and edit.

Three profiles ship with formcheck:

``default``
    The registered plug-ins' own thresholds (see :mod:`formcheck.exercises`),
    written out from the registry, so a new plug-in appears in it.
``beginner``
    Fewer technique nitpicks (depth, positions, tempo judged more loosely);
    the spine thresholds stay as in ``default``: safety is not relaxed.
``strict``
    Tighter everywhere, competition depth for the squat.

``beginner`` and ``strict`` are TOML files (``formcheck/exercises/data``);
checks they do not list keep their defaults.

A profile is a set of tables ``[exercise.fault_code]`` with the keys
``caution`` and ``fault`` (numbers, in the unit the check measures; see
``docs/faults.md``) and optionally ``enabled = false`` to switch a check off::

    [squat.shallow_depth]   # thigh angle above parallel at the bottom (deg)
    caution = 6.0
    fault = 16.0

Whether higher or lower values are worse is fixed by the check; the caution
level must be the milder one. A profile may list only the checks it changes:
the rest keep their defaults. Every mistake is reported as one line naming
the offending key (:class:`ProfileError`).

Print a bundled profile to start your own::

    python -m formcheck.exercises.profiles default > my-profile.toml
"""

from __future__ import annotations

import math
import os
import sys
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from formcheck.errors import InputError
from formcheck.exercises import EXERCISES
from formcheck.faults.catalogue import entry
from formcheck.faults.core import Threshold
from formcheck.io.files import require_file

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

#: Profiles bundled with formcheck.
BUNDLED = ("default", "beginner", "strict")
#: Keys a fault table may hold.
FAULT_KEYS = ("caution", "fault", "enabled")
#: Plausible levels by the unit a check measures in (the catalogue's ``measure`` ends with it): a
#: level outside is a typo or a sign slip (a negative angle would make every rep a fault).
LEVEL_RANGES = {"deg": (0.0, 180.0), "%": (0.0, 100.0), "cm": (0.0, 100.0), "s": (0.0, 10.0)}
#: Checks whose measure is signed: 0 is a position, not "none" (thigh angle above parallel).
SIGNED_LEVELS = {"shallow_depth": (-90.0, 90.0)}

Thresholds = dict[str, dict[str, Threshold]]  # exercise → code → Threshold


class ProfileError(InputError):
    """A profile that cannot be used; the message names the file and the key."""


#: What the default profile says about itself.
DEFAULT_DESCRIPTION = "the plug-ins' own thresholds"


def bundled_text(name: str) -> str:
    """The TOML text of a bundled profile (``default``, ``beginner`` or ``strict``)."""
    if name == "default":
        return render_profile(merged({}), "default", DEFAULT_DESCRIPTION)
    return resources.files("formcheck.exercises").joinpath("data", f"{name}.toml").read_text(encoding="utf-8")


def load_profile(source: str | os.PathLike) -> Thresholds:
    """Read a profile: a bundled name or a path to a TOML file.

    Returns
    -------
    dict
        ``exercise → code → Threshold`` for every check the profile sets (what
        :class:`formcheck.analysis.offline.AnalysisOptions` and
        :func:`formcheck.apps.analyze.analyze_video` take as ``thresholds``).

    Raises
    ------
    ProfileError
        Missing file, invalid TOML, unknown exercise or fault, a value that is
        not a number, or levels in the wrong order.
    """
    text = str(source)
    bundled = text in BUNDLED and not Path(text).exists()
    path = Path(f"{text}.toml" if bundled else text)
    label = path.name
    if not bundled and not path.exists():
        raise ProfileError(f"profile {text} does not exist (bundled profiles: {', '.join(BUNDLED)})")
    if not bundled:
        try:
            require_file(path, "profile (a TOML file)")
        except InputError as exc:
            raise ProfileError(str(exc)) from None
    try:
        data = tomllib.loads(bundled_text(text) if bundled else path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ProfileError(f"profile {label} is not a text file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"profile {label} is not valid TOML: {exc}") from None
    return parse_profile(data, label)


def parse_profile(data: Mapping[str, Any], label: str = "profile") -> Thresholds:
    """Check a parsed profile and turn it into thresholds (see :func:`load_profile`)."""
    out: Thresholds = {}
    for exercise, table in data.items():
        if exercise == "meta":
            continue
        if exercise not in EXERCISES:
            raise ProfileError(
                f"profile {label}: unknown exercise [{exercise}] (choose from {', '.join(EXERCISES)}, or [meta])"
            )
        if not isinstance(table, Mapping):
            raise ProfileError(f"profile {label}: {exercise} must be a table of faults, e.g. [{exercise}.tempo]")
        defaults = EXERCISES[exercise].thresholds
        for code, levels in table.items():
            key = f"{exercise}.{code}"
            if code not in defaults:
                raise ProfileError(
                    f"profile {label}: {key} is not a {exercise} fault (choose from {', '.join(defaults)})"
                )
            if not isinstance(levels, Mapping):
                raise ProfileError(f"profile {label}: {key} must be a table with caution and fault")
            out.setdefault(exercise, {})[code] = _threshold(levels, defaults[code], key, label)
    return out


def _threshold(levels: Mapping[str, Any], default: Threshold, key: str, label: str) -> Threshold:
    unknown = [k for k in levels if k not in FAULT_KEYS]
    if unknown:
        raise ProfileError(f"profile {label}: {key}.{unknown[0]} is not a setting (use {', '.join(FAULT_KEYS)})")
    enabled = levels.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ProfileError(f"profile {label}: {key}.enabled must be true or false, got {enabled!r}")
    if not enabled:  # never reached: the check never fires
        off = math.inf if default.higher_is_worse else -math.inf
        return Threshold(caution=off, fault=off, higher_is_worse=default.higher_is_worse)
    values = {}
    for name in ("caution", "fault"):
        value = levels.get(name, getattr(default, name))
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ProfileError(f"profile {label}: {key}.{name} must be a number, got {value!r}")
        values[name] = float(value)
        _check_range(values[name], key, name, label)
    milder_first = values["caution"] <= values["fault"] if default.higher_is_worse else values["caution"] >= values["fault"]
    if not milder_first:
        way = "at most" if default.higher_is_worse else "at least"
        raise ProfileError(
            f"profile {label}: {key}.caution must be {way} {key}.fault "
            f"({'higher' if default.higher_is_worse else 'lower'} values are worse), "
            f"got caution = {values['caution']:g}, fault = {values['fault']:g}"
        )
    return Threshold(caution=values["caution"], fault=values["fault"], higher_is_worse=default.higher_is_worse)


def level_range(code: str) -> tuple[float, float, str] | None:
    """``(lowest, highest, unit)`` a level of check ``code`` may take, or None when its unit is not known.

    >>> level_range("butt_wink"), level_range("shallow_depth"), level_range("tempo")
    ((0.0, 180.0, 'deg'), (-90.0, 90.0, 'deg'), (0.0, 10.0, 's'))
    """
    measure = entry(code).measure
    if "(" not in measure:
        return None
    unit = measure.rsplit("(", 1)[1].split(";")[0].split(" of ")[0].strip(" )")
    if unit not in LEVEL_RANGES:
        return None
    return (*SIGNED_LEVELS.get(code, LEVEL_RANGES[unit]), unit)


def _check_range(value: float, key: str, name: str, label: str) -> None:
    bounds = level_range(key.split(".", 1)[1])
    if bounds is None:
        return
    lowest, highest, unit = bounds
    if lowest <= value <= highest:
        return
    if value < 0 <= lowest:
        raise ProfileError(f"profile {label}: {key}.{name} must not be negative, got {value:g} {unit}")
    raise ProfileError(
        f"profile {label}: {key}.{name} = {value:g} {unit} is not plausible (use {lowest:g} to {highest:g} {unit})"
    )


def merged(profile: Thresholds) -> Thresholds:
    """Every exercise's full thresholds: its defaults overridden by ``profile``."""
    return {name: {**ex.thresholds, **profile.get(name, {})} for name, ex in EXERCISES.items()}


def render_profile(thresholds: Thresholds, name: str, description: str) -> str:
    """A profile as TOML text, every check commented with what it measures."""
    lines = [
        f"# formcheck threshold profile: {name}",
        "# Copy this file, edit the numbers, and use it with: formcheck analyze VIDEO --profile FILE",
        "# Each [exercise.fault] table sets the levels at which the measured value becomes a",
        "# caution and a fault; 'enabled = false' switches a check off. Whether higher or lower",
        "# values are worse is fixed by the check (noted below). Units and methods: docs/faults.md.",
        "",
        "[meta]",
        f'name = "{name}"',
        f'description = "{description}"',
    ]
    for exercise, table in thresholds.items():
        lines += ["", f"# ---- {EXERCISES[exercise].title}"]
        for code, th in table.items():
            worse = "higher is worse" if th.higher_is_worse else "lower is worse"
            info = "; information only, never a fault" if entry(code).info_only else ""
            lines += [
                "",
                f"[{exercise}.{code}]  # {entry(code).measure}; {worse}{info}",
                f"caution = {_number(th.caution)}",
                f"fault = {_number(th.fault)}",
            ]
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return f"{value:g}" if "e" not in f"{value:g}" else repr(value)


def main(argv: list[str] | None = None) -> int:
    """``python -m formcheck.exercises.profiles [NAME]``: print a bundled profile (default: ``default``)."""
    args = sys.argv[1:] if argv is None else argv
    name = args[0] if args else "default"
    if name not in BUNDLED:
        print(f"formcheck: error: no bundled profile {name!r} (choose from {', '.join(BUNDLED)})", file=sys.stderr)
        return 2
    sys.stdout.write(bundled_text(name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
