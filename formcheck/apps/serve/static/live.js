// formcheck serve: the live check. Camera → JPEG frames over a WebSocket → the server's
// StreamingAnalyzer (the one `formcheck live` uses) → what to draw, drawn here over the frame sent.
// One frame in flight at most: a frame is sent only once the previous one is answered, so nothing
// queues; frames the camera made meanwhile are skipped.
"use strict";

const FPS = 15;
const MAX_W = 640, MAX_H = 480;
const COLORS = { skeleton: "rgb(40,200,230)", back: "rgb(220,60,220)", ok: "rgb(60,200,80)", caution: "rgb(255,170,0)",
  fault: "rgb(230,50,50)", info: "rgb(35,100,150)", white: "#fff" };

// What the page did, for the browser tests and the benchmark (read by Selenium).
const stats = window.formcheckLive = { sent: 0, answered: 0, dropped: 0, skipped: 0, rtts: [], encodeMs: [], serverMs: [],
  reps: 0, last: null, spoken: [], errors: [] };

let socket = null, stream = null, timer = null, edges = [];
let inFlight = null;  // {n, sentAt, image}
let frameNumber = 0;

const $ = (id) => document.getElementById(id);
const view = $("view"), ctx = view.getContext("2d"), camera = $("camera");
const grab = document.createElement("canvas");

function say(text, error) { const m = $("live-message"); m.textContent = text; m.className = "message" + (error ? " error" : ""); }

async function start() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    say("This browser cannot open a camera here: open the page on the computer itself (http://127.0.0.1 is a secure context).", true);
    return;
  }
  // The analyser first (loading the pose model takes a moment), then the camera: no frame of the set is missed.
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  socket = new WebSocket(scheme + location.host + "/ws/live?exercise=" + encodeURIComponent($("exercise").value));
  socket.binaryType = "arraybuffer";
  socket.addEventListener("message", (ev) => receive(JSON.parse(ev.data)));
  socket.addEventListener("close", (ev) => { if (socket) say("The connection closed" + (ev.reason ? ": " + ev.reason : "") + ".", true); stop(); });
  socket.addEventListener("open", () => say("Connected: loading the pose model…"));
  $("start").hidden = true; $("stop").hidden = false;
}

async function openCamera() {
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
  } catch (e) {
    say("The camera could not be opened: " + e.message, true);
    stop();
    return;
  }
  camera.srcObject = stream;
  await camera.play();
  say("Checking: stand side-on, the whole body in view.");
  timer = setInterval(tick, 1000 / FPS);
}

function stop() {
  if (timer) clearInterval(timer);
  timer = null;
  const open = socket;
  socket = null;
  if (open && open.readyState <= 1) open.close();
  if (stream) stream.getTracks().forEach((t) => t.stop());
  stream = null;
  inFlight = null;
  $("start").hidden = false; $("stop").hidden = true;
}

function tick() {
  if (!socket || socket.readyState !== 1 || camera.readyState < 2) return;
  if (inFlight) { stats.skipped += 1; return; }
  const scale = Math.min(1, MAX_W / camera.videoWidth, MAX_H / camera.videoHeight);
  const w = Math.round(camera.videoWidth * scale), h = Math.round(camera.videoHeight * scale);
  const image = document.createElement("canvas");
  image.width = w; image.height = h;
  image.getContext("2d").drawImage(camera, 0, 0, w, h);
  const capturedAt = performance.now();
  const n = ++frameNumber;
  inFlight = { n, sentAt: capturedAt, image };
  image.toBlob(async (blob) => {
    const jpeg = await blob.arrayBuffer();
    stats.encodeMs.push(performance.now() - capturedAt);
    const message = new Uint8Array(12 + jpeg.byteLength);
    const header = new DataView(message.buffer);
    header.setFloat64(0, capturedAt, true);
    header.setUint32(8, n, true);
    message.set(new Uint8Array(jpeg), 12);
    if (socket && socket.readyState === 1) { socket.send(message.buffer); stats.sent += 1; }
    else inFlight = null;
  }, "image/jpeg", 0.8);
}

function receive(data) {
  if (data.hello) {
    edges = data.edges;
    openCamera();
    return;
  }
  if (data.error) { stats.errors.push(data.error); inFlight = null; return; }
  if (data.dropped !== undefined) { stats.dropped += 1; if (inFlight && inFlight.n === data.dropped) inFlight = null; return; }
  if (!inFlight || data.n !== inFlight.n) return;
  const frame = inFlight;
  draw(frame.image, data);
  stats.rtts.push(performance.now() - frame.sentAt);
  stats.serverMs.push(data.ms.pose + data.ms.analysis);
  stats.answered += 1;
  stats.reps = data.reps;
  stats.last = data;
  inFlight = null;
  $("live-reps").textContent = String(data.reps);
  $("live-phase").textContent = data.exercise + (data.phase ? " · " + data.phase : "");
  const recent = stats.rtts.slice(-30).slice().sort((a, b) => a - b);
  $("live-latency").textContent = recent.length ? "round trip " + Math.round(recent[Math.floor(recent.length / 2)]) + " ms" : "";
  if (data.speak) {
    stats.spoken.push(data.speak);
    if ($("speak").checked && window.speechSynthesis) window.speechSynthesis.speak(new SpeechSynthesisUtterance(data.speak));
  }
}

// ------------------------------------------------------------------ drawing (the annotated video's look)
function draw(image, o) {
  if (view.width !== image.width || view.height !== image.height) { view.width = image.width; view.height = image.height; }
  ctx.drawImage(image, 0, 0);
  const unit = Math.max(1, view.height / 480);
  if (o.points) {
    ctx.strokeStyle = COLORS.skeleton; ctx.lineWidth = 3 * unit; ctx.lineCap = "round";
    for (const [a, b] of edges) {
      const p = o.points[a], q = o.points[b];
      if (!p || !q) continue;
      ctx.beginPath(); ctx.moveTo(p[0], p[1]); ctx.lineTo(q[0], q[1]); ctx.stroke();
    }
    ctx.fillStyle = COLORS.white;
    for (const p of o.points) if (p) { ctx.beginPath(); ctx.arc(p[0], p[1], 3 * unit, 0, 2 * Math.PI); ctx.fill(); }
  }
  if (o.back && o.back.length > 1) {
    ctx.strokeStyle = COLORS.back; ctx.lineWidth = 4 * unit;
    ctx.beginPath(); ctx.moveTo(o.back[0][0], o.back[0][1]);
    for (const p of o.back.slice(1)) ctx.lineTo(p[0], p[1]);
    ctx.stroke();
  }
  ctx.font = `${Math.round(15 * unit)}px system-ui, sans-serif`;
  for (const a of o.angles) label(`${a.label} ${a.deg}°`, a.at[0] + 8 * unit, a.at[1] - 8 * unit);
  if (o.depth) gauge(o.depth, "depth", view.width - 40 * unit, unit);
  if (o.back_gauge) gauge(o.back_gauge, "back", 18 * unit, unit);
  counter(o.reps, o.phase, unit);
  if (o.banner) banner(o.banner, unit);
}

function label(text, x, y) {
  ctx.lineWidth = 3; ctx.strokeStyle = "rgba(0,0,0,.8)"; ctx.strokeText(text, x, y);
  ctx.fillStyle = COLORS.white; ctx.fillText(text, x, y);
}

function gaugeColor(g) {
  const lowIsBad = g.caution > g.fault;
  const beyond = (limit) => lowIsBad ? g.value <= limit : g.value >= limit;
  return beyond(g.fault) ? COLORS.fault : beyond(g.caution) ? COLORS.caution : COLORS.ok;
}

function gauge(g, name, x, unit) {
  const w = 22 * unit, h = 0.4 * view.height, y = (view.height - h) / 2;
  const fill = Math.max(0, Math.min(1, (g.value - g.lo) / (g.hi - g.lo)));
  ctx.fillStyle = "rgba(0,0,0,.45)"; ctx.fillRect(x, y, w, h);
  ctx.fillStyle = gaugeColor(g); ctx.fillRect(x, y + h * (1 - fill), w, h * fill);
  ctx.strokeStyle = COLORS.white; ctx.lineWidth = 1.5; ctx.strokeRect(x, y, w, h);
  for (const t of [g.caution, g.fault]) {
    const ty = y + h * (1 - (t - g.lo) / (g.hi - g.lo));
    ctx.beginPath(); ctx.moveTo(x - 4, ty); ctx.lineTo(x + w + 4, ty); ctx.stroke();
  }
  label(name, x - 4 * unit, y - 8 * unit);
  label(g.value.toFixed(name === "depth" ? 2 : 0), x - 2 * unit, y + h + 18 * unit);
}

function counter(reps, phase, unit) {
  const w = 120 * unit, h = 58 * unit, x = view.width - w - 10 * unit, y = view.height - h - 10 * unit;
  ctx.fillStyle = "rgba(0,0,0,.6)"; ctx.fillRect(x, y, w, h);
  ctx.fillStyle = COLORS.white;
  ctx.font = `bold ${Math.round(24 * unit)}px system-ui, sans-serif`;
  ctx.fillText(`REPS ${reps}`, x + 10 * unit, y + 28 * unit);
  ctx.font = `${Math.round(14 * unit)}px system-ui, sans-serif`;
  ctx.fillText(phase || "", x + 10 * unit, y + 48 * unit);
}

function banner(b, unit) {
  const h = 40 * unit;
  ctx.fillStyle = COLORS[b.severity] || COLORS.info; ctx.fillRect(0, 0, view.width, h);
  ctx.fillStyle = b.severity === "caution" ? "#000" : "#fff";
  ctx.font = `bold ${Math.round(17 * unit)}px system-ui, sans-serif`;
  ctx.fillText(b.text, 12 * unit, 26 * unit, view.width - 24 * unit);
}

$("start").addEventListener("click", start);
$("stop").addEventListener("click", () => { say("Stopped."); stop(); });
$("reset").addEventListener("click", () => { if (socket && socket.readyState === 1) socket.send(JSON.stringify({ type: "reset" })); });
$("exercise").addEventListener("change", () => {
  if (socket && socket.readyState === 1) socket.send(JSON.stringify({ type: "exercise", value: $("exercise").value }));
});
