"""report.html: contents, escaping, missing inputs, the command, and real rendering in headless Chromium."""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import cv2
import numpy as np
import pytest

from conftest import CLIPS, needs_shared
from formcheck.analysis.offline import analyze_track
from formcheck.analysis.report import Report
from formcheck.apps.report import add_arguments, run
from formcheck.errors import InputError
from formcheck.render.html import CSP, render_html, write_html_report
from formcheck.render.plots import PANELS, SEVERITY_COLORS, signals_svg
from formcheck.render.stills import pick_key_frames
from formcheck.render.words import verdict_sentence
from formcheck.synth import SynthSpec, make_track, write_clip

SVG = "{http://www.w3.org/2000/svg}"

# '/' cannot be in a file name, so the hostile name closes its tag with a backslash;
# the client name (not a file) carries the exact payload.
HOSTILE_NAME = "a<script>alert(1)<\\script><img src=x onerror=alert(2)>.mp4"
HOSTILE_CLIENT = "</title><script>alert(1)</script>"
SQUAT_SPEC = SynthSpec("squat", reps=3, faults={"shallow_depth": 1.0}, fault_reps=(2,), setup_s=0.8)


# ---------------------------------------------------------------------- helpers
class PageParser(HTMLParser):
    """Collects what matters for safety and structure: tags, attributes, text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def all(self, tag: str) -> list[dict]:
        return [attrs for name, attrs in self.tags if name == tag]


def parse(page: str) -> PageParser:
    parser = PageParser()
    parser.feed(page)
    return parser


def assert_inert(page: str) -> PageParser:
    """No script, no event handler, nothing loaded from anywhere but the page itself."""
    doc = parse(page)
    assert not doc.all("script"), "the page must contain no script element"
    for tag, attrs in doc.tags:
        handlers = [a for a in attrs if a.lower().startswith("on")]
        assert not handlers, f"<{tag}> carries event handlers {handlers}"
        for key in ("src", "href", "srcset", "action", "data"):
            value = attrs.get(key)
            assert value is None or value.startswith("data:image/"), f"<{tag} {key}={value[:40]!r}> loads from outside"
    return doc


@pytest.fixture(scope="module")
def squat_report():
    """A report from a synthetic track (no rendering): 3 squats, the last one shallow."""
    return analyze_track(make_track(SQUAT_SPEC))


def write_outputs(report, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    report.write_json(out_dir / "report.json")
    report.write_angles_csv(out_dir / "angles.csv")
    return out_dir


# ---------------------------------------------------------------------- page contents
def test_page_has_verdict_rep_table_and_plot(squat_report):
    assert squat_report.rep_count == 3 and squat_report.reps[2].faults, "the fixture should find the shallow rep"
    page = render_html(squat_report, squat_report.frames)
    doc = assert_inert(page)

    metas = doc.all("meta")
    assert any(m.get("http-equiv") == "Content-Security-Policy" and m.get("content") == CSP for m in metas)
    table_rows = [attrs for tag, attrs in doc.tags if tag == "tr"]
    assert len(table_rows) == 1 + squat_report.rep_count  # header + one row per rep
    plots = [img for img in doc.all("img") if img.get("class") == "plot"]
    assert len(plots) == 1 and plots[0]["src"].startswith("data:image/svg+xml;base64,")
    svg = ElementTree.fromstring(base64.b64decode(plots[0]["src"].split(",", 1)[1]))
    texts = ["".join(t.itertext()) for t in svg.iter(f"{SVG}text")]
    assert {"Hip flexion", "Knee flexion", "Rep 1", "Rep 3", "time (s)"} <= set(texts)
    shaded = [r for r in svg.iter(f"{SVG}rect") if r.get("fill") == SEVERITY_COLORS["fault"]]
    assert len(shaded) == 2, "the shallow rep is shaded in the hip and knee panels"
    text = " ".join(doc.text)
    assert "shallow depth in rep 3 (fault)" in text
    assert squat_report.reps[2].cue in text


def svg_lines(svg) -> dict[str, np.ndarray]:
    """Points of each signal line of the plot, by stroke colour."""
    lines = {}
    for path in svg.iter(f"{SVG}path"):
        if path.get("fill") == "none" and path.get("stroke-width") == "1.6":
            numbers = re.findall(r"[ML](-?[\d.]+) (-?[\d.]+)", path.get("d"))
            lines[path.get("stroke")] = np.array(numbers, np.float64)
    return lines


def test_svg_plot_draws_the_data_it_is_given(squat_report):
    frames = dict(squat_report.frames)
    svg = ElementTree.fromstring(signals_svg(frames, squat_report))
    colours = {name: colour for name, _, colour in PANELS}
    lines = svg_lines(svg)
    knee = lines[colours["knee_flexion"]]
    values = np.asarray(frames["knee_flexion"], np.float64)
    assert len(knee) == np.isfinite(values).sum()
    # Screen y falls as the angle rises: the deepest knee bend is the highest point of its line.
    finite = np.flatnonzero(np.isfinite(values))
    assert finite[np.argmin(knee[:, 1])] == np.nanargmax(values)
    assert np.all(np.diff(knee[:, 0]) > 0), "x follows time"
    # A signal that is missing gets a note instead of a line.
    frames["lumbar_flexion"] = np.full(len(values), np.nan)
    svg = ElementTree.fromstring(signals_svg(frames, squat_report))
    assert colours["lumbar_flexion"] not in svg_lines(svg)
    assert any("Not assessed" in "".join(t.itertext()) for t in svg.iter(f"{SVG}text"))


def test_verdict_counts_clean_reps_and_names_faults():
    rep = {"index": 1, "faults": [], "start_s": 0, "end_s": 1}
    bad = {"index": 2, "faults": [{"code": "hips_rise_early", "severity": "caution", "cue": "c"}], "start_s": 1, "end_s": 2}
    sentence, tone = verdict_sentence({"exercise": "deadlift", "reps": [rep, bad]})
    assert (sentence, tone) == ("1 of 2 deadlift reps looks good; hips rise early in rep 2 (caution).", "caution")
    sentence, tone = verdict_sentence({"exercise": "deadlift", "reps": [rep, dict(rep, index=2)]})
    assert tone == "good" and "no faults" in sentence
    worse = {"index": 3, "faults": [{"code": "hips_rise_early", "severity": "fault", "cue": "c"}], "start_s": 2, "end_s": 3}
    sentence, tone = verdict_sentence({"exercise": "deadlift", "reps": [bad, worse]})
    assert tone == "fault" and sentence.endswith("hips rise early in rep 3 (fault) and rep 2 (caution).")
    sentence, tone = verdict_sentence({"exercise": "squat", "reps": []})
    assert tone == "none" and "No complete squat reps" in sentence


def test_hostile_strings_are_escaped_not_executed(squat_report):
    fault = dataclasses.replace(squat_report.reps[2].faults[0], message="<marquee onmouseover=alert(3)>deep</marquee>")
    rep = dataclasses.replace(squat_report.reps[2], faults=(fault,), cue="<script>alert(4)</script>")
    report = dataclasses.replace(
        squat_report,
        source=f"/videos/{HOSTILE_NAME}",
        reps=squat_report.reps[:2] + (rep,),
        notes=("<iframe src=//evil>",),
        not_assessable={"<svg onload=alert(5)>": "<img src=x onerror=alert(6)>"},
    )
    page = render_html(report, report.frames, client=HOSTILE_CLIENT)
    doc = assert_inert(page)
    assert not doc.all("iframe") and not doc.all("svg") and not doc.all("marquee")
    text = "".join(doc.text)
    for shown in (HOSTILE_NAME, HOSTILE_CLIENT, "<script>alert(4)</script>", "<iframe src=//evil>"):
        assert shown in text, f"{shown!r} should be shown as text"


def test_page_without_reps_or_frames_says_why():
    report = {
        "source": "walk.mp4", "exercise": "unknown", "view": {"label": "front", "sideness_deg": 5.0},
        "video": {"duration_s": 3.0, "frames": 90, "pose_detected_fraction": 0.0}, "reps": [],
        "notes": ["no person was found in the video"], "not_assessable": {},
    }
    doc = assert_inert(render_html(report, None))
    text = " ".join(doc.text)
    assert "not recognised as a squat or a deadlift" in text and "No person was found in the video." in text
    assert "Filmed from the front" in text
    assert not doc.all("table") and not doc.all("img")


def test_set_summary_observations_and_advice_are_shown_escaped(squat_report):
    report = squat_report.to_dict()
    report["set_summary"] = ["reps 2–3: <i>depth</i> faded as you got tired"]
    report["advice"] = {"camera_view": "film from the front <u>at hip height</u>"}
    report["reps"][0]["info"] = [{"code": "knees_forward", "severity": "info", "message": "knees <em>far</em> ahead"}]
    doc = assert_inert(render_html(report, squat_report.frames))
    assert not doc.all("i") and not doc.all("u") and not doc.all("em")
    text = " ".join(doc.text)
    assert "Reps 2–3: <i>depth</i> faded as you got tired." in text
    assert "Film from the front <u>at hip height</u>." in text
    assert "Knees far forward" in text and "Knees <em>far</em> ahead." in text


def test_checks_a_rep_could_not_be_judged_on_are_named_with_the_reason(squat_report):
    report = squat_report.to_dict()
    report["reps"][0]["faults"] = []
    report["reps"][0]["not_assessed"] = {"butt_wink": "the back's outline was <b>unclear</b> during most of this rep",
                                         "lumbar_hyperextension": "the back's outline was <b>unclear</b> during most of this rep"}
    doc = assert_inert(render_html(report, squat_report.frames))
    text = " ".join(doc.text)
    assert "not judged" in text and "No faults found in what could be judged" in text
    assert "The back's outline was <b>unclear</b> during most of this rep." in text


# ---------------------------------------------------------------------- from an output folder
def test_report_from_folder_without_the_video(tmp_path, squat_report):
    out = write_outputs(dataclasses.replace(squat_report, source=str(tmp_path / "gone.mp4")), tmp_path / "out")
    path = write_html_report(out)
    assert path == out / "report.html"
    page = path.read_text(encoding="utf-8")
    doc = assert_inert(page)
    assert any(img.get("class") == "plot" for img in doc.all("img")), "the plot needs only angles.csv"
    assert "the video gone.mp4 was not found" in " ".join(doc.text)
    assert not [p for p in out.iterdir() if p.name.startswith(".tmp-")], "atomic write leaves no temporary file"


def test_report_with_only_report_json(tmp_path, squat_report):
    out = write_outputs(squat_report, tmp_path / "out")
    (out / "angles.csv").unlink()
    doc = assert_inert(write_html_report(out).read_text(encoding="utf-8"))
    assert not any(img.get("class") == "plot" for img in doc.all("img"))
    assert len([t for t, _ in doc.tags if t == "tr"]) == 1 + squat_report.rep_count


def test_angles_csv_round_trip_feeds_key_frame_picks(tmp_path, squat_report):
    out = write_outputs(squat_report, tmp_path / "out")
    table = Report.load(out).frames
    assert np.allclose(table["time"], squat_report.frames["time"], rtol=1e-3)
    assert table["phase"].dtype == object and "descent" in set(table["phase"])  # text stays text
    picks = pick_key_frames(json.loads((out / "report.json").read_text()), squat_report.frames["time"])
    assert [label for rep, label, _ in picks if rep == 1] == ["Set-up", "Bottom", "Lockout"]
    for rep in squat_report.reps:
        frames = [i for r, _, i in picks if r == rep.index]
        assert frames[1] == rep.bottom_frame
        assert rep.start_frame <= frames[0] < frames[1] < frames[2] <= rep.end_frame


def test_report_command(tmp_path, squat_report, capsys):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    with pytest.raises(InputError, match="is not a folder"):
        run(parser.parse_args([str(tmp_path / "missing")]))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="does not exist"):
        run(parser.parse_args([str(tmp_path / "empty")]))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "report.json").write_text("{not json")
    with pytest.raises(InputError, match="not a readable report"):
        run(parser.parse_args([str(broken)]))
    out = write_outputs(squat_report, tmp_path / "out")
    assert run(parser.parse_args([str(out), "--client", "Ana"])) == 0
    assert capsys.readouterr().out.strip() == str(out / "report.html")
    assert "Squat check — Ana" in (out / "report.html").read_text(encoding="utf-8")


@pytest.mark.pose_model
def test_key_frames_from_the_still_cache_need_no_video(tmp_path, monkeypatch):
    import formcheck.io.video
    from formcheck.apps.analyze import analyze_video
    from formcheck.pose.track import PoseTrack

    clip = tmp_path / "squat.mp4"
    write_clip(clip, SynthSpec("squat", reps=2, setup_s=0.5, supersample=1))
    out = tmp_path / "out"
    analyze_video(clip, out, video=False, html=False)
    cache = tmp_path / "stills"
    first = write_html_report(out, still_cache=cache).read_text(encoding="utf-8")
    stills = [img["src"] for img in parse(first).all("img") if img["src"].startswith("data:image/jpeg")]
    assert len(stills) == 6 and len(list(cache.rglob("*.jpg"))) == 6

    def no_decoding(*args, **kwargs):
        raise AssertionError("the video was decoded although its key frames were cached")

    with monkeypatch.context() as patch:
        patch.setattr(formcheck.io.video, "read_frames", no_decoding)
        again = write_html_report(out, still_cache=cache).read_text(encoding="utf-8")
    assert [img["src"] for img in parse(again).all("img") if img["src"].startswith("data:image/jpeg")] == stills
    assert again == first

    # Other landmarks (here: shifted from frame 30 on) are other stills: decoded and drawn again, not taken from the cache.
    track = PoseTrack.load(out / "landmarks.npz")
    track.xy[30:] += 3.0
    track.save(out / "landmarks.npz")
    write_html_report(out, still_cache=cache)
    assert len(list(cache.rglob("*.jpg"))) == 12


# ---------------------------------------------------------------------- in a real browser
def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


needs_chromium = pytest.mark.skipif(
    chromium() is None, reason="headless Chromium not installed (Debian package `chromium`; .ci/run installs it)"
)


def open_in_chromium(page: Path, tmp_path: Path, *mode: str) -> tuple[str, list[str]]:
    """Load ``page`` in headless Chromium; returns (stdout, console messages)."""
    profile = tmp_path / f"chromium-profile-{len(list(tmp_path.glob('chromium-profile-*')))}"
    command = [
        chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
        f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *mode, page.resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    # Every console message (script error, CSP violation, failed load) is logged as CONSOLE.
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return done.stdout, console


def screenshot(page: Path, tmp_path: Path, height: int = 3000) -> tuple[np.ndarray, list[str]]:
    png = tmp_path / "screenshot.png"
    _, console = open_in_chromium(page, tmp_path, f"--window-size=1100,{height}", f"--screenshot={png}")
    image = cv2.imread(str(png))
    assert image is not None, "Chromium wrote no screenshot"
    return image, console


@pytest.mark.browser
@pytest.mark.pose_model
@needs_chromium
def test_hostile_file_name_runs_no_script_in_chromium(tmp_path):
    from formcheck.apps.analyze import analyze_video

    clip = tmp_path / HOSTILE_NAME
    write_clip(clip, SynthSpec("squat", reps=2, setup_s=0.5, supersample=1))
    out = tmp_path / "out"
    analyze_video(clip, out, video=False)
    page = write_html_report(out, client=HOSTILE_CLIENT)

    dom, console = open_in_chromium(page, tmp_path, "--dump-dom")
    assert console == [], console
    doc = assert_inert(dom)  # the DOM after the browser parsed (and would have run) the page
    assert "<title>Squat check — &lt;/title&gt;&lt;script&gt;" in dom
    text = "".join(doc.text)
    assert HOSTILE_NAME in text and HOSTILE_CLIENT in text
    assert "alert" not in " ".join(" ".join(attrs.values()) for _, attrs in doc.tags if attrs)
    image, console = screenshot(page, tmp_path, height=1200)
    assert console == [], console
    assert image.std() > 20, "the page should render, not stay blank"


@needs_shared
@pytest.mark.browser
@pytest.mark.pose_model
@needs_chromium
def test_real_clip_report_renders_in_chromium(tmp_path):
    from formcheck.apps.analyze import analyze_video

    clip = CLIPS / "deadlift" / "studio_deadlift_reps.mp4"
    out = tmp_path / "out"
    report = analyze_video(clip, out, video=False)
    assert report.rep_count >= 1
    page = write_html_report(out)
    html = page.read_text(encoding="utf-8")
    assert_inert(html)
    assert len(html) < 1_500_000, "a report should stay small enough to e-mail"

    dom, console = open_in_chromium(page, tmp_path, "--dump-dom")
    assert console == [], f"console messages: {console}"
    doc = parse(dom)
    # The rep table, and the bar's (this plate is followed: formcheck.pose.plate).
    assert all("mean_concentric_velocity_m_s" in rep.metrics for rep in report.reps)
    assert len([t for t, _ in doc.tags if t == "tr"]) == 2 * (1 + report.rep_count)
    images = doc.all("img")
    plots = [img for img in images if img.get("class") == "plot"]
    stills = [img for img in images if img.get("src", "").startswith("data:image/jpeg")]
    assert len(plots) == 2 and len(stills) == 3 * report.rep_count
    for img in images:  # every embedded picture decodes
        data = base64.b64decode(img["src"].split(",", 1)[1])
        if img["src"].startswith("data:image/svg+xml"):
            assert ElementTree.fromstring(data).tag == f"{SVG}svg"
        else:
            assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) is not None

    image, console = screenshot(page, tmp_path)
    assert console == [], console
    # The page's background is light grey; a rendered report has content well down the page.
    rows_with_content = np.flatnonzero((image.std(axis=(1, 2)) > 8))
    assert len(rows_with_content) > 1000, "the screenshot looks empty"
    # The plot (an SVG image) is drawn: pixels of each signal's line colour are on the page.
    for _, _, colour in PANELS[:3]:
        bgr = np.array([int(colour[i:i + 2], 16) for i in (5, 3, 1)])
        assert (np.abs(image.astype(int) - bgr).sum(axis=2) < 40).sum() > 200, f"no {colour} line in the screenshot"
    print(f"screenshot: {tmp_path / 'screenshot.png'}")
