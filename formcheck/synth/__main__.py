"""Command line: render a synthetic lifting clip with its ground truth.

    python -m formcheck.synth deadlift --lumbar-flexion 30 --reps 3 --out clip.mp4
    python -m formcheck.synth squat --butt-wink 20 --background gym --out squat.mp4 --track squat.npz
    python -m formcheck.synth deadlift --camera-height 0.3 --distance 3 --aim --fill 0.7 --size 360x640 --out phone.mp4

Writes ``clip.mp4``, ``clip.truth.npz`` and ``clip.truth.json`` (and, with
``--track``, a noisy synthetic landmark track made without the pose model).
"""

from __future__ import annotations

import argparse
import sys

from formcheck.synth.backgrounds import BACKGROUNDS
from formcheck.synth.bystander import BYSTANDERS
from formcheck.synth.faults import EXERCISE_ALIASES, EXERCISES, FAULTS
from formcheck.synth.motion import FINISHES, IMPLEMENTS
from formcheck.synth.render import CLOTHING


class _Parser(argparse.ArgumentParser):
    """Bad arguments: one line on stderr, exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse hook
        self.exit(2, f"{self.prog}: error: {message}\n")


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, got {text!r}") from None
    return w, h


def _int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated rep numbers, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m formcheck.synth",
                description="Render a synthetic side-view lifting clip with exact ground truth.")
    p.add_argument("exercise", choices=sorted(EXERCISES + tuple(EXERCISE_ALIASES)), metavar="EXERCISE",
                   help=f"one of: {', '.join(EXERCISES)}")
    p.add_argument("--out", required=True, help="output .mp4 (truth files are written beside it)")
    p.add_argument("--track", help="also write a noisy synthetic landmark track (.npz) made without rendering")
    p.add_argument("--codec", choices=("mp4v", "h264"), default="mp4v")
    g = p.add_argument_group("faults (severity; units in brackets)")
    for code, info in FAULTS.items():
        g.add_argument("--" + code.replace("_", "-"), type=float, default=None, metavar="S",
                       help=f"{info.description} [{info.unit}, 0–{info.max_severity:g}; "
                            f"{', '.join(info.exercises)}]".replace("%", "%%"))  # argparse formats help with %
    g.add_argument("--fault-reps", type=_int_list, default=None, metavar="I,J",
                   help="reps (0-based) that show the faults (default: all)")
    m = p.add_argument_group("movement")
    m.add_argument("--reps", type=int, default=3)
    m.add_argument("--depth", type=float, default=1.0, help="squat depth, 1 = thighs parallel")
    m.add_argument("--tempo", type=float, default=1.0, help="duration multiplier (>1 slower)")
    m.add_argument("--pause-bottom", type=float, default=None, metavar="S")
    m.add_argument("--pause-top", type=float, default=None, metavar="S")
    m.add_argument("--setup", type=float, default=1.5, metavar="S", help="standing period before the set")
    m.add_argument("--fps", type=float, default=30.0)
    m.add_argument("--height", type=float, default=1.75, metavar="M", help="lifter's height")
    m.add_argument("--lean-compensation", type=float, default=0.7)
    m.add_argument("--implement", choices=IMPLEMENTS, default=None)
    m.add_argument("--finish", choices=FINISHES, default="stand_up",
                   help="deadlift: let go of the bar and stand up after the set (not a rep), or stay set at the bar")
    c = p.add_argument_group("camera and look")
    c.add_argument("--yaw", type=float, default=0.0, metavar="DEG", help="0 = side view from the right")
    c.add_argument("--distance", type=float, default=4.0, metavar="M")
    c.add_argument("--camera-height", type=float, default=1.0, metavar="M")
    c.add_argument("--focal", type=float, default=800.0, metavar="PX")
    c.add_argument("--pitch", type=float, default=0.0, metavar="DEG",
                   help="camera tilt, + looking down, − up (a phone on the floor aimed up: −5 … −20)")
    c.add_argument("--aim", action="store_true",
                   help="pitch the camera at the lifter's middle (overrides --pitch)")
    c.add_argument("--fill", type=float, default=None, metavar="SHARE",
                   help="zoom so the standing lifter spans this share of the frame height (overrides --focal)")
    c.add_argument("--bystander", choices=BYSTANDERS, default="none",
                   help="a second person: walking across the room behind the lifter, or a coach standing beside")
    c.add_argument("--size", type=_size, default=(640, 480), metavar="WxH")
    c.add_argument("--background", choices=BACKGROUNDS, default="room")
    c.add_argument("--clothing", choices=sorted(CLOTHING), default=None)
    c.add_argument("--skin", type=int, default=None, help="skin tone 0 (light) … 3 (dark)")
    c.add_argument("--looseness", type=float, default=0.0, help="0 tight … 1 loose clothes")
    c.add_argument("--noise", type=float, default=2.0, help="pixel noise sigma (grey levels)")
    c.add_argument("--blur", type=float, default=0.0, help="Gaussian blur sigma (px)")
    c.add_argument("--supersample", type=int, default=2)
    c.add_argument("--seed", type=int, default=0)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from formcheck.synth import SynthSpec, make_track, write_clip  # heavy imports after parsing
    from formcheck.synth.framing import framed

    faults = {code: getattr(args, code) for code in FAULTS if getattr(args, code) is not None}
    try:
        spec = SynthSpec(
            exercise=args.exercise, reps=args.reps, faults=faults, fault_reps=args.fault_reps, depth=args.depth,
            tempo=args.tempo, pause_bottom_s=args.pause_bottom, pause_top_s=args.pause_top, setup_s=args.setup,
            fps=args.fps, height_m=args.height, lean_compensation=args.lean_compensation,
            camera_yaw_deg=args.yaw, camera_distance_m=args.distance, camera_height_m=args.camera_height,
            focal_px=args.focal, image_size=args.size, background=args.background, clothing=args.clothing,
            skin=args.skin, looseness=args.looseness, implement=args.implement, noise=args.noise,
            blur=args.blur, supersample=args.supersample, seed=args.seed, camera_pitch_deg=args.pitch,
            bystander=args.bystander, finish=args.finish,
        )
        spec.motion()  # surfaces motion errors (e.g. implement/exercise mismatch) before rendering
        if args.aim or args.fill is not None:
            spec = framed(spec, args.fill, aim=args.aim)
    except ValueError as exc:
        parser.error(str(exc))
    try:
        truth = write_clip(args.out, spec, codec=args.codec)
        if args.track:
            make_track(spec).save(args.track)
    except OSError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 1
    faults_text = ", ".join(f"{k}={v:g}" for k, v in spec.faults.items()) or "none"
    print(f"{args.out}: {spec.exercise}, {truth.rep_count} reps, {len(truth)} frames at {spec.fps:g} fps, "
          f"faults {faults_text}, lifter {truth.person_height_px:.0f} px tall")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
