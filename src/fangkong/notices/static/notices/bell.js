/* The header bell (notices/_bell.html): keeps the unread count current without a reload.

   Every `data-poll-seconds` (30 s; FANGKONG_NOTICE_POLL_SECONDS) it asks `data-poll-url` (GET /api/notices/unread, one
   indexed count on the server) and shows the answer. It does not ask while the tab is
   hidden, and asks at once when the tab is shown again. A 401/403 (the session ended)
   stops it; a network error waits for the next turn. Driven by data attributes only
   (the Content-Security-Policy allows no inline code). */
(function () {
  "use strict";

  var bell = document.querySelector("[data-notice-bell]");
  if (!bell || !window.fetch) { return; }
  var badge = bell.querySelector("[data-notice-count]");
  var url = bell.getAttribute("data-poll-url");
  var every = Math.max(1, parseInt(bell.getAttribute("data-poll-seconds"), 10) || 30) * 1000;
  var cap = parseInt(bell.getAttribute("data-cap"), 10) || 99;
  var timer = null;
  var stopped = false;

  function show(count) {
    var text = count > cap ? cap + "+" : String(count);
    badge.textContent = text;
    badge.hidden = count <= 0;
    bell.classList.toggle("has-unread", count > 0);
    var label = count > 0
      ? bell.getAttribute("data-label-unread").replace("%(n)s", text)
      : bell.getAttribute("data-label");
    bell.setAttribute("aria-label", label);
    bell.setAttribute("title", label);
  }

  function poll() {
    timer = null;
    if (stopped || document.hidden) { return; }
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (response.status === 401 || response.status === 403) { stopped = true; return null; }
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (data && typeof data.unread === "number") { show(data.unread); }
      })
      .catch(function () { /* offline: try again next turn */ })
      .then(schedule);
  }

  function schedule() {
    if (!stopped && !document.hidden && timer === null) { timer = window.setTimeout(poll, every); }
  }

  document.addEventListener("visibilitychange", function () {
    if (timer !== null) { window.clearTimeout(timer); timer = null; }
    if (!document.hidden) { poll(); }
  });
  schedule();
}());
