"""``formcheck serve`` over HTTP on 127.0.0.1, without the pose model: the API contract, the
token, the size limit, hostile names, cross-origin refusals, no listings, and the data folder
shared with ``formcheck batch``. (Analyses of real clips: test_serve_analysis.py; the browser:
test_serve_browser.py.)"""

from __future__ import annotations

import asyncio
import json
import select
import socket
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from formcheck.apps.serve import store as store_module
from formcheck.apps.serve.live import HEADER, LiveCheck, describe, parse_frame
from formcheck.apps.serve.security import cross_site
from formcheck.apps.serve.store import AnalysisStore
from formcheck.apps.serve.uploads import UploadError, UploadReceiver
from test_serve_helpers import Server

TEXT = b"this is a shopping list, not a video\n" * 20


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    with Server(tmp_path_factory.mktemp("serve-local") / "data", "--max-upload-mb", "5") as server:
        yield server


@pytest.fixture(scope="module")
def lan(tmp_path_factory):
    with Server(tmp_path_factory.mktemp("serve-lan") / "data", "--lan") as server:
        yield server


def client(server: Server, **kwargs) -> httpx.Client:
    return httpx.Client(base_url=server.base, timeout=30.0, **kwargs)


# ------------------------------------------------------------------ the contract
def test_text_file_named_mp4_becomes_an_analysis_in_error_then_is_deleted(local):
    with client(local) as http:
        posted = http.post("/api/analyses", files={"video": ("squat.mp4", TEXT, "video/mp4")},
                           data={"client": "Bea", "exercise": "squat"})
        assert posted.status_code == 202
        body = posted.json()
        assert set(body) >= {"id", "status"} and body["status"] in ("queued", "error")
        state = http.get(f"/api/analyses/{body['id']}").json()
        assert state["status"] == "error" and "report" not in state
        assert "squat.mp4" in state["error"] and "video" in state["error"]
        assert str(local.data) not in state["error"]  # the message names the file as the user knows it
        assert 0.0 <= state["progress"] <= 1.0 and state["client"] == "Bea" and state["exercise"] == "squat"
        assert body["id"] in [a["id"] for a in http.get("/api/analyses").json()["analyses"]]
        page = http.get(f"/analyses/{body['id']}")
        assert page.status_code == 200 and "squat.mp4" in page.text and "Failed" in page.text

        assert http.delete(f"/api/analyses/{body['id']}").json() == {"id": body["id"], "deleted": True}
        assert http.get(f"/api/analyses/{body['id']}").status_code == 404
        assert http.delete(f"/api/analyses/{body['id']}").status_code == 404
    assert not list((local.data / "uploads").glob(f"{body['id']}*"))


def test_bad_requests_get_a_reason(local):
    with client(local) as http:
        no_video = http.post("/api/analyses", data={"client": "x"}, files={"other": ("a.txt", b"x", "text/plain")})
        assert no_video.status_code == 400 and "video" in no_video.json()["error"]
        not_multipart = http.post("/api/analyses", content=b"{}", headers={"content-type": "application/json"})
        assert not_multipart.status_code == 400 and "multipart" in not_multipart.json()["error"]
        bad_exercise = http.post("/api/analyses", files={"video": ("a.mp4", TEXT)}, data={"exercise": "bench press"})
        assert bad_exercise.status_code == 400 and "exercise" in bad_exercise.json()["error"]
        assert http.get("/api/analyses/0123456789abcdef").status_code == 404
        assert http.get("/api/analyses/not-an-id").status_code == 404
    assert not [p for p in (local.data / "uploads").iterdir() if p.name.startswith(".tmp-")]


# ------------------------------------------------------------------ size limit
def _raw_upload(port: int, head: bytes, body_chunks, limit_bytes: int) -> tuple[int, int, bytes]:
    """Send a request by hand; stop sending as soon as the server answers. Returns (status, bytes sent, body)."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head)
        for chunk in body_chunks:
            readable, _, _ = select.select([s], [], [], 0)
            if readable:
                break
            try:
                s.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
            assert sent < 3 * limit_bytes + (64 << 20), "the server kept reading far past the limit"
        response = b""
        s.settimeout(10)
        try:
            while chunk := s.recv(65536):
                response += chunk
        except (ConnectionResetError, socket.timeout):
            pass
    status = int(response.split(b" ", 2)[1])
    return status, sent, response.split(b"\r\n\r\n", 1)[1]


def _multipart_head(port: int, boundary: str, length: int | None) -> bytes:
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (
        f"POST /api/analyses HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n{framing}\r\n\r\n"
    ).encode()


def test_a_3_gb_upload_is_refused_at_the_limit_without_being_stored(local, lan):
    """Declared 3 GB: refused before a byte is read (default limit, 2048 MB, and 5 MB). Streamed without
    a length: cut at the limit (5 MB here)."""
    boundary = "xyzBOUNDARY"
    part = f'--{boundary}\r\nContent-Disposition: form-data; name="video"; filename="big.mp4"\r\n\r\n'.encode()
    three_gb = 3 * 1024**3
    head = _multipart_head(lan.port, boundary, three_gb).replace(b"\r\n\r\n", f"\r\nAuthorization: Bearer {lan.token}\r\n\r\n".encode())
    status, sent, body = _raw_upload(lan.port, head, [part], 2048 << 20)
    assert status == 413 and "2048 MB" in json.loads(body)["error"]
    assert not list((lan.data / "uploads").iterdir())
    status, sent, body = _raw_upload(local.port, _multipart_head(local.port, boundary, three_gb), [part], 5 << 20)
    assert status == 413 and "limit" in json.loads(body)["error"]

    def chunked(total: int, size: int = 1 << 16):
        yield f"{len(part):x}\r\n".encode() + part + b"\r\n"
        block = f"{size:x}\r\n".encode() + bytes(size) + b"\r\n"
        for _ in range(total // size):
            yield block

    status, sent, body = _raw_upload(local.port, _multipart_head(local.port, boundary, None), chunked(three_gb), 5 << 20)
    assert status == 413 and "5 MB" in json.loads(body)["error"]
    assert sent < 64 << 20  # stopped near the 5 MB limit, not after 3 GB
    time.sleep(0.2)
    leftovers = list((local.data / "uploads").iterdir())
    assert not [p for p in leftovers if p.name.startswith(".tmp-")], leftovers
    assert not any("big" in a["name"] for a in httpx.get(f"{local.base}/api/analyses").json()["analyses"])


# ------------------------------------------------------------------ hostile names
HOSTILE = ["<script>alert(1)</script>.mp4", "../../x", "Ünïcødé 漢字 🏋.mov", '"><img src=x onerror=alert(1)>.mp4']


def test_hostile_names_are_stored_safely_and_shown_escaped(local):
    outside = sorted(p.name for p in local.data.parent.iterdir())
    with client(local) as http:
        ids = {}
        for name in HOSTILE:
            response = http.post("/api/analyses", files={"video": (name, TEXT, "video/mp4")}, data={"client": name})
            assert response.status_code == 202
            ids[name] = response.json()["id"]
        home = http.get("/").text
        for name, analysis_id in ids.items():
            state = http.get(f"/api/analyses/{analysis_id}").json()
            assert state["name"] == store_module.shown_name(name) and state["client"] == name
            page = http.get(f"/analyses/{analysis_id}").text
            for text in (home, page):
                assert "<script>alert" not in text and "<img src=x" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;.mp4" in home and "Ünïcødé 漢字 🏋.mov" in home
    stored = [p.name for p in (local.data / "uploads").iterdir()]
    assert all(store_module.ID_PATTERN.fullmatch(n.split(".")[0]) for n in stored), stored
    assert sorted(p.name for p in local.data.parent.iterdir()) == outside  # nothing written beside the data folder
    assert not (local.data / "x").exists() and not (local.data.parent / "x").exists()


# ------------------------------------------------------------------ the token (--lan), on 127.0.0.1
def test_lan_mode_refuses_every_request_without_the_token(lan):
    token = lan.token
    assert token and len(token) >= 20
    with client(lan) as http:
        for path in ("/", "/coach", "/live", "/static/app.css", "/static/live.js", "/api/analyses", "/set?id=x"):
            response = http.get(path)
            assert response.status_code == 401, path
        assert http.get("/api/analyses").json()["error"].startswith("this server needs its access token")
        refused = http.post("/api/analyses", files={"video": ("a.mp4", TEXT)})
        assert refused.status_code == 401
        assert http.get("/api/analyses", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert http.get("/api/analyses?token=wrong").status_code == 401
        assert http.get("/api/analyses", headers={"Authorization": f"Bearer {token}"}).json() == {"analyses": []}
        opened = http.get(f"/?token={token}")
        assert opened.status_code == 200 and "HttpOnly" in opened.headers["set-cookie"]
        assert http.get("/static/app.css").status_code == 200  # the page's own requests carry the cookie
    assert not list((lan.data / "uploads").iterdir())  # the refused upload was not stored


def test_lan_mode_prints_the_link_and_a_qr_code_of_it(lan):
    import cv2

    url = f"http://127.0.0.1:{lan.port}/?token={lan.token}"
    assert url in lan.output
    rows = [line for line in lan.output.splitlines() if set(line) <= set("█▀▄ ") and line.strip()]
    assert len(rows) > 10
    # Each character is two modules high, drawn for a dark terminal (a lit half is a light module):
    # draw them back as pixels and let OpenCV read the code.
    width = max(len(r) for r in rows)
    image = np.full((2 * len(rows), width), 255, np.uint8)
    for y, row in enumerate(rows):
        for x, ch in enumerate(row):
            image[2 * y, x] = 255 if ch in "█▀" else 0
            image[2 * y + 1, x] = 255 if ch in "█▄" else 0
    image = cv2.copyMakeBorder(image, 8, 8, 8, 8, cv2.BORDER_CONSTANT, value=255)
    decoded, _, _ = cv2.QRCodeDetector().detectAndDecode(cv2.resize(image, None, fx=8, fy=8, interpolation=cv2.INTER_NEAREST))
    assert decoded == url


def test_websocket_without_the_token_is_refused(lan):
    import websockets.sync.client as ws_client
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus):
        ws_client.connect(f"ws://127.0.0.1:{lan.port}/ws/live", open_timeout=10).close()


# ------------------------------------------------------------------ cross-origin, hosts, listings
def test_cross_origin_requests_and_foreign_host_names_are_refused(local):
    with client(local) as http:
        evil = http.post("/api/analyses", files={"video": ("a.mp4", TEXT)}, headers={"Origin": "http://evil.example"})
        assert evil.status_code == 403
        assert http.get("/api/analyses", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors"}).status_code == 403
        assert http.get("/static/app.js", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}).status_code == 403
        assert http.get("/", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}).status_code == 200
        assert http.get("/", headers={"Host": "evil.example"}).status_code == 400  # DNS rebinding
        same = http.get("/api/analyses", headers={"Origin": local.base})
        assert same.status_code == 200
        assert not any(k.lower().startswith("access-control-") for k in same.headers)
        page = http.get("/")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "SAMEORIGIN" and page.headers["x-content-type-options"] == "nosniff"


def test_no_directory_listing_and_no_paths_from_requests(local):
    with client(local) as http:
        for path in ("/static/", "/static", "/uploads/", "/uploads", "/.serve/", "/set?id=..%2F..%2Fetc",
                     "/set/report.html?id=..%2F..", "/set/passwd?id=.", "/set/annotated.mp4?id=",
                     "/analyses/..%2F..%2Fetc", "/coach/plot.png?name=..%2F..%2Fx"):
            response = http.get(path, follow_redirects=True)  # /static redirects to /static/
            assert response.status_code == 404, (path, response.status_code)
            assert "Index of" not in response.text


def test_cross_site_rule():
    assert cross_site({"type": "websocket"}, {"origin": "http://evil.example"}, "127.0.0.1:8000")
    assert not cross_site({"type": "websocket"}, {"origin": "http://127.0.0.1:8000"}, "127.0.0.1:8000")
    assert cross_site({"type": "http", "method": "DELETE"}, {"sec-fetch-site": "same-site"}, "h")
    assert not cross_site({"type": "http", "method": "GET"}, {"sec-fetch-site": "same-origin"}, "h")


# ------------------------------------------------------------------ one data folder with formcheck batch
def test_batch_output_and_the_web_app_see_the_same_clients(local, tmp_path, squat_track):
    """A batch run into the data folder (landmarks from its cache: no pose model) shows in the coach view."""
    from formcheck.apps.coach.batch import run_batch
    from formcheck.apps.coach.video import file_sha256

    video = tmp_path / "clients" / "Carla" / "week1.mp4"
    video.parent.mkdir(parents=True)
    video.write_bytes(b"stand-in video: its landmarks come from the cache" + bytes(range(256)))
    cache = local.data / ".cache"
    cache.mkdir(parents=True, exist_ok=True)
    squat_track.save(cache / f"{file_sha256(video)}.npz")
    summary = run_batch([str(tmp_path / "clients")], local.data, workers=0, video=False, quiet=True)
    assert summary.records[0]["status"] == "ok" and summary.reps == 3

    with client(local) as http:
        coach = http.get("/coach").text
        assert 'href="/coach/client?name=Carla"' in coach and "Roster" in coach
        page = http.get("/coach/client", params={"name": "Carla"}).text
        assert 'src="/coach/plot.png?name=Carla"' in page and "week1.mp4" in page
        plot = http.get("/coach/plot.png", params={"name": "Carla"})
        assert plot.status_code == 200 and plot.content[:8] == b"\x89PNG\r\n\x1a\n"
        set_page = http.get("/set", params={"id": "Carla/week1"}).text
        assert 'id="rep-count">3<' in set_page
        report = http.get("/set/report.html", params={"id": "Carla/week1"})
        assert report.status_code == 200 and "default-src 'none'" in report.headers["content-security-policy"]
        assert http.get("/set/report.json", params={"id": "Carla/week1"}).json()["rep_count"] == 3


# ------------------------------------------------------------------ pure parts
def test_store_recovers_unfinished_analyses_and_drops_incomplete_uploads(tmp_path):
    store = AnalysisStore(tmp_path)
    running = store.update(store.create("a.mp4", "anna", "auto"), status="running", progress=0.4)
    store.upload_path(running).write_bytes(b"v")
    complete = store.create("b.mp4", None, "squat")  # the file arrived, the state was not updated yet
    store.upload_path(complete).write_bytes(b"v")
    incomplete = store.create("c.mp4", None, "auto")  # killed while the bytes were arriving
    (store.uploads / ".tmp-abc.upload").write_bytes(b"half")
    done = store.update(store.create("d.mp4", None, "auto"), status="done", progress=1.0)
    again = store.recover()
    assert [a.id for a in again] == [running.id, complete.id]
    assert all(a.status == "queued" and a.progress == 0 for a in again)
    assert store.get(incomplete.id) is None and store.get(done.id).status == "done"
    assert not list(store.uploads.glob(".tmp-*"))
    assert complete.client == store_module.UNASSIGNED and running.set_id == f"anna/upload-{running.id}"


def _receive(store, body: bytes, limit: int, chunk: int = 7):
    receiver = UploadReceiver(store, "multipart/form-data; boundary=B", limit, ["auto", "squat"])

    async def stream():
        for i in range(0, len(body), chunk):
            yield body[i:i + chunk]

    return asyncio.run(receiver.receive(stream(), None))


def _form(*parts: tuple[str, str | None, bytes]) -> bytes:
    out = b""
    for name, filename, data in parts:
        extra = f'; filename="{filename}"' if filename is not None else ""
        out += f'--B\r\nContent-Disposition: form-data; name="{name}"{extra}\r\n\r\n'.encode() + data + b"\r\n"
    return out + b"--B--\r\n"


def test_upload_receiver_streams_the_video_to_disk_with_its_hash(tmp_path):
    import hashlib

    store = AnalysisStore(tmp_path)
    video = bytes(range(256)) * 40
    analysis = _receive(store, _form(("video", "set.MOV", video), ("client", None, "Dana".encode()),
                                     ("exercise", None, b"squat")), limit=1 << 20)
    assert store.upload_path(analysis).read_bytes() == video
    assert (analysis.size, analysis.sha256) == (len(video), hashlib.sha256(video).hexdigest())
    assert (analysis.name, analysis.client, analysis.exercise, analysis.upload) == ("set.MOV", "Dana", "squat", f"{analysis.id}.mov")
    with pytest.raises(UploadError) as too_big:
        _receive(store, _form(("video", "x.mp4", bytes(5000))), limit=4096)
    assert too_big.value.status == 413
    assert sorted(p.name for p in store.uploads.iterdir()) == [analysis.upload]  # nothing of the refused one


def test_live_overlay_describes_the_analysers_state(squat_track):
    """The streaming analyser fed the stick-figure squats: the overlay counts the reps and draws the body."""

    class Replay:  # stands in for the pose model: returns the track's poses in order
        def __init__(self, track):
            self.frames = iter(track[i] for i in range(len(track)))

        def detect(self, image, time_s):
            from dataclasses import replace

            return [replace(next(self.frames), time_s=time_s)]

        def close(self):
            pass

    check = LiveCheck(Replay(squat_track), "squat")
    image = np.zeros((480, 640, 3), np.uint8)
    overlays = [check.process(image, 1000.0 * t) for t in squat_track.time_s]
    last = overlays[-1]
    assert last["reps"] == 3 and [o["speak"] for o in overlays if o["speak"]][0].startswith("Rep 1")
    assert len(last["points"]) == 33 and last["depth"]["hi"] == 1.2 and last["size"] == [640, 480]
    assert {a["label"] for a in last["angles"]} == {"knee", "hip"}
    json.dumps(last)  # plain JSON
    assert max(o["reps"] for o in overlays) == 3 and overlays[0]["reps"] == 0


def test_frame_messages_are_checked():
    import cv2

    from formcheck.apps.serve.live import FrameError

    ok, jpeg = cv2.imencode(".jpg", np.zeros((480, 640, 3), np.uint8))
    assert parse_frame(HEADER.pack(5.0, 3) + jpeg.tobytes())[:2] == (5.0, 3)
    for bad in (b"", HEADER.pack(5.0, 3), HEADER.pack(5.0, 3) + b"not a jpeg"):
        with pytest.raises(FrameError):
            parse_frame(bad)
