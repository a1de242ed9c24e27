"""``formcheck serve`` in Debian's chromium (Selenium + chromium-driver), as a person would use it:
upload a real clip through the page and read the reps in the report, see the error for a text
file named .mp4, open the coach view and its trend plot, and count a clip's reps on the live page
with Chromium's fake camera playing that clip. Screenshots of every page at phone (390×844) and
laptop (1280×800) size go to ``$FORMCHECK_SCREENSHOTS`` (docs/img/ keeps the ones in the docs)
or the test's temporary folder."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from conftest import needs_shared
from test_serve_helpers import LIVE_CLIP, SQUAT_CLIP, Server, chromium_driver, needs_chromium, page_screenshot, write_y4m

pytestmark = [pytest.mark.browser, pytest.mark.pose_model, needs_chromium]

PHONE, LAPTOP = (390, 844), (1280, 800)


def shots_dir(tmp_path: Path) -> Path:
    return Path(os.environ.get("FORMCHECK_SCREENSHOTS", tmp_path / "screenshots"))


def both_sizes(driver, folder: Path, name: str) -> None:
    page_screenshot(driver, folder / f"serve-{name}-phone.png", *PHONE)
    page_screenshot(driver, folder / f"serve-{name}-laptop.png", *LAPTOP)


def wait_until(driver, script: str, timeout: float = 240.0, every: float = 0.2):
    """Run ``script`` (returning a value) until it is truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for: {script}")


@needs_shared
def test_upload_progress_report_error_and_coach_view_in_chromium(tmp_path):
    from selenium.webdriver.common.by import By

    shots = shots_dir(tmp_path)
    not_a_video = tmp_path / "notes.mp4"
    not_a_video.write_text("a shopping list, renamed .mp4\n" * 50)
    with Server(tmp_path / "data") as server:
        driver = chromium_driver(tmp_path / "profile", LAPTOP)
        try:
            driver.get(server.base + "/")
            assert driver.find_element(By.ID, "video").get_attribute("capture") == "environment"
            both_sizes(driver, shots, "upload")
            driver.find_element(By.NAME, "client").send_keys("anna")
            driver.find_element(By.ID, "video").send_keys(str(SQUAT_CLIP))
            driver.find_element(By.ID, "send").click()

            wait_until(driver, "return location.pathname.startsWith('/analyses/')", 60)
            progress = []
            while not driver.find_elements(By.ID, "rep-count"):
                value = driver.execute_script(
                    "const b = document.getElementById('status'); return b ? [b.dataset.status, b.dataset.progress] : null")
                if value and value[0] == "running" and value[1] is not None:
                    progress.append(float(value[1]))
                if len(progress) == 5:
                    both_sizes(driver, shots, "progress")
                time.sleep(0.25)
                assert len(progress) < 2000, "the analysis did not finish"
            assert len(set(progress)) >= 3 and progress == sorted(progress), progress  # the bar moved
            assert driver.find_element(By.ID, "rep-count").text == "5"
            assert len(driver.find_elements(By.CSS_SELECTOR, "#rep-table tbody tr")) == 5
            duration = wait_until(driver, "const v = document.getElementById('annotated'); "
                                          "return v.readyState >= 1 && v.duration", 30)
            assert duration > 5  # the annotated video loaded in the page (H.264)
            driver.find_elements(By.CSS_SELECTOR, "button.seek")[2].click()
            assert wait_until(driver, "return document.getElementById('annotated').currentTime > 0", 30)
            frame_rows = wait_until(driver, "const d = document.getElementById('report-frame').contentDocument; "
                                            "return d && d.querySelectorAll('table.reps tbody tr').length", 30)
            assert frame_rows == 5  # report.html's own rep table, in the page
            driver.execute_script("document.getElementById('annotated').pause()")
            both_sizes(driver, shots, "report")

            driver.get(server.base + "/")
            driver.find_element(By.ID, "video").send_keys(str(not_a_video))
            driver.find_element(By.ID, "send").click()
            wait_until(driver, "return location.pathname.startsWith('/analyses/')", 60)
            error = driver.find_element(By.ID, "error").text
            assert "notes.mp4" in error and "not a readable video" in error
            assert driver.find_element(By.ID, "status-word").text == "Failed"
            both_sizes(driver, shots, "error")

            driver.get(server.base + "/coach")
            driver.find_element(By.LINK_TEXT, "anna").click()
            wait_until(driver, "const i = document.getElementById('trend'); return i && i.complete && i.naturalWidth", 30)
            assert driver.execute_script("return document.getElementById('trend').naturalHeight") > 200
            both_sizes(driver, shots, "client")
            driver.get(server.base + "/coach")
            assert "anna" in driver.find_element(By.ID, "roster").text
            both_sizes(driver, shots, "coach")
            logs = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            assert not logs, logs  # no script error, no resource the page's policy refused
        finally:
            driver.quit()


@needs_shared
def test_live_page_counts_the_clips_reps_from_the_fake_camera(tmp_path):
    from selenium.webdriver.common.by import By

    from formcheck.apps.analyze import analyze_video

    clip = LIVE_CLIP

    expected = analyze_video(clip, None).rep_count
    camera = tmp_path / "camera.y4m"
    frames, fps = write_y4m(clip, camera, (640, 480), still_tail_s=4.0)
    with Server(tmp_path / "data") as server:
        driver = chromium_driver(tmp_path / "profile", LAPTOP, fake_camera=camera)
        try:
            driver.get(server.base + "/live")
            driver.find_element(By.ID, "exercise").send_keys("Squat")
            driver.find_element(By.ID, "start").click()
            wait_until(driver, "return window.formcheckLive.answered > 0", 60)
            # The fake camera starts the clip when the page opens it; watch it once through, plus the still tail.
            time.sleep(frames / fps + 2.0)
            stats = driver.execute_script("return window.formcheckLive")
            page_screenshot(driver, shots_dir(tmp_path) / "serve-live-laptop.png", *LAPTOP)
            page_screenshot(driver, shots_dir(tmp_path) / "serve-live-phone.png", *PHONE)
            rtts = sorted(stats["rtts"])
            print(f"live: {stats['answered']} frames answered, {stats['skipped']} skipped, {stats['dropped']} dropped, "
                  f"round trip p50 {rtts[len(rtts) // 2]:.0f} ms p95 {rtts[int(0.95 * len(rtts))]:.0f} ms, "
                  f"server median {sorted(stats['serverMs'])[len(rtts) // 2]:.0f} ms, "
                  f"encode median {sorted(stats['encodeMs'])[len(stats['encodeMs']) // 2]:.0f} ms")
            assert stats["reps"] == expected == 5, stats["reps"]
            assert int(driver.find_element(By.ID, "live-reps").text) == expected
            assert len(stats["spoken"]) == expected and stats["spoken"][0].startswith("Rep 1")
            assert stats["answered"] > 0.5 * 15 * frames / fps  # most of 15 frames a second analysed (speed: benchmarks/)
            assert not stats["errors"]
        finally:
            driver.quit()
