/* fangkong background jobs: the progress bar of a job a page started (core/_job.html).
   No inline script (CSP): the panel carries data attributes:

   - data-job-status-url  the JSON status endpoint (GET /api/jobs/<id>), polled each second
                          while the job is queued or running;
   - data-job-done-url    where the page goes once the job has finished (the job's page,
                          `?job=<id>`), to show its result or the reason it failed
                          (rendered by the server). */
(function () {
  "use strict";

  var POLL_MS = 1000;

  // Queued: no bar, the note ("waiting for the background worker", or that none seems
  // to run). Running: the bar, rows done (of the total) when the work counts rows, the
  // phase. A work that counts no rows (an export, an opening) shows no "0 / 0".
  function show(panel, status) {
    var counted = Boolean(status.counted);
    var box = panel.querySelector("[data-job-bar]");
    if (box) { box.hidden = status.state === "queued"; }
    var note = panel.querySelector("[data-job-note]");
    if (note) {
      note.textContent = status.note || "";
      note.hidden = !status.note;
      note.className = status.no_worker ? "flash flash-warning" : "muted";
    }
    var label = panel.querySelector("[data-job-state-label]");
    if (label && status.state_label) { label.textContent = status.state_label; }
    var bar = panel.querySelector("progress");
    if (bar) {
      if (status.percent === null || status.percent === undefined) {
        bar.removeAttribute("value");
      } else {
        bar.value = status.percent;
      }
    }
    var rows = panel.querySelector("[data-job-rows]");
    if (rows) {
      rows.textContent = !counted ? ""
        : status.rows_total ? status.rows_done + " / " + status.rows_total
        : String(status.rows_done);
    }
    var percent = panel.querySelector("[data-job-percent]");
    if (percent) {
      percent.textContent = counted && status.percent !== null && status.percent !== undefined
        ? status.percent + "%" : "";
    }
    var phase = panel.querySelector("[data-job-phase]");
    if (phase) { phase.textContent = status.phase_label || ""; }
    panel.setAttribute("data-job-state", status.state);
  }

  function poll(panel) {
    var url = panel.getAttribute("data-job-status-url");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (status) {
        show(panel, status);
        if (status.state === "done" || status.state === "failed") {
          window.location.assign(panel.getAttribute("data-job-done-url"));
          return;
        }
        window.setTimeout(function () { poll(panel); }, POLL_MS);
      })
      .catch(function () { window.setTimeout(function () { poll(panel); }, POLL_MS * 3); });
  }

  function start() {
    document.querySelectorAll("[data-job-status-url]").forEach(function (panel) {
      var state = panel.getAttribute("data-job-state");
      if (state === "queued" || state === "running") {
        window.setTimeout(function () { poll(panel); }, POLL_MS);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
