// formcheck serve: the upload form, an analysis' progress, cancel/delete, and the report page.
// No library, no inline script (the page's Content-Security-Policy allows only this file).
"use strict";

const RUNNING = ["uploading", "queued", "running"];
const WORDS = { uploading: "Uploading", queued: "Waiting", running: "Analysing", done: "Done", error: "Failed" };

function $(id) { return document.getElementById(id); }

function setBar(bar, fraction) {
  bar.hidden = false;
  bar.firstElementChild.style.width = Math.round(100 * Math.max(0, Math.min(1, fraction))) + "%";
}

// ------------------------------------------------------------------ upload
function setUpUpload(form) {
  const input = form.querySelector("input[type=file]");
  const drop = form.querySelector(".drop");
  const chosen = form.querySelector(".chosen");
  const message = form.querySelector(".message");
  const bar = form.querySelector(".bar");
  const button = form.querySelector("button[type=submit]");
  const show = () => { chosen.textContent = input.files.length ? input.files[0].name : ""; };
  input.addEventListener("change", show);
  ["dragenter", "dragover"].forEach((e) => drop.addEventListener(e, (ev) => { ev.preventDefault(); drop.classList.add("over"); }));
  ["dragleave", "drop"].forEach((e) => drop.addEventListener(e, () => drop.classList.remove("over")));
  drop.addEventListener("drop", (ev) => {
    ev.preventDefault();
    if (ev.dataTransfer.files.length) { input.files = ev.dataTransfer.files; show(); }
  });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (!input.files.length) { message.textContent = "Choose a video first."; return; }
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", (e) => { if (e.lengthComputable) setBar(bar, e.loaded / e.total); });
    request.addEventListener("load", () => {
      let body = {};
      try { body = JSON.parse(request.responseText); } catch (e) { body = {}; }
      if (request.status === 202 && body.id) {
        message.textContent = "Uploaded. Opening the analysis…";
        window.location.assign("/analyses/" + body.id);
      } else {
        button.disabled = false;
        message.className = "message error";
        message.textContent = body.error || ("The upload failed (" + request.status + ").");
      }
    });
    request.addEventListener("error", () => {
      button.disabled = false;
      message.className = "message error";
      message.textContent = "The upload failed: the server could not be reached, or refused the file.";
    });
    button.disabled = true;
    message.className = "message";
    message.textContent = "Uploading " + input.files[0].name + " …";
    setBar(bar, 0);
    request.send(new FormData(form));
  });
}

// ------------------------------------------------------------------ an analysis
function setUpStatus(box) {
  const id = box.dataset.id;
  const word = $("status-word"), detail = $("status-detail"), bar = $("progress"), error = $("error");
  const cancel = $("cancel"), remove = $("delete");
  let shown = box.dataset.status;
  async function poll() {
    let data;
    try {
      const response = await fetch("/api/analyses/" + id, { headers: { Accept: "application/json" } });
      if (response.status === 404) { window.location.assign("/"); return; }
      data = await response.json();
    } catch (e) { setTimeout(poll, 1500); return; }
    word.textContent = WORDS[data.status] || data.status;
    word.className = "status " + data.status;
    box.dataset.status = data.status;
    box.dataset.progress = String(data.progress);
    detail.textContent = data.status === "queued" && data.position ? " (number " + data.position + " in the queue)"
      : data.status === "running" ? " " + Math.round(100 * data.progress) + " %" : "";
    if (RUNNING.includes(data.status)) {
      setBar(bar, data.progress);
      setTimeout(poll, 400);
    } else {
      bar.hidden = true;
      cancel.hidden = true;
      if (data.error) { error.hidden = false; error.textContent = data.error; }
      if (data.status === "done" && shown !== "done") window.location.reload();
    }
    shown = data.status;
  }
  if (RUNNING.includes(shown)) poll();
  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    await fetch("/api/analyses/" + id + "/cancel", { method: "POST" });
    poll();
  });
  remove.addEventListener("click", async () => {
    if (remove.dataset.armed !== "1") {  // a second tap confirms (no dialog: works the same on phones)
      remove.dataset.armed = "1";
      remove.textContent = "Tap again to delete";
      return;
    }
    remove.disabled = true;
    const response = await fetch("/api/analyses/" + id, { method: "DELETE" });
    if (response.ok) window.location.assign("/");
  });
}

// ------------------------------------------------------------------ the report
function setUpReport() {
  const video = $("annotated");
  document.querySelectorAll("button.seek").forEach((b) => b.addEventListener("click", () => {
    if (!video) return;
    video.currentTime = parseFloat(b.dataset.start);
    video.play().catch(() => {});
  }));
  const frame = $("report-frame");
  if (frame) {
    const fit = () => {
      try { frame.style.height = (frame.contentDocument.documentElement.scrollHeight + 4) + "px"; } catch (e) { /* keep the default */ }
    };
    frame.addEventListener("load", fit);
    window.addEventListener("resize", fit);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form.upload").forEach(setUpUpload);
  const box = $("status");
  if (box) setUpStatus(box);
  setUpReport();
});
