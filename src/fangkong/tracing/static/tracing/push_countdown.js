/* Countdowns to deadlines (推送核查, 复核). Each element
   <time class="countdown" datetime="ISO" data-now="ISO" data-left="剩余" data-over="已超时"
         data-fmt-d="%(d)s天" data-fmt-dh="%(d)s天%(h)s小时" data-fmt-h=... data-fmt-hm=... data-fmt-m=... data-fmt-lt=...>
   shows the time left (or overdue) in words, whole minutes ("剩余 5小时12分",
   "已超时 2小时"), and turns red once overdue. The server's "now" (data-now) sets the
   clock the count runs on, so a page served on the demo's clock counts on that clock.
   No library; updates every few seconds and after every htmx swap. */
(function () {
  "use strict";

  var DEFAULTS = {
    "left": "剩余", "over": "已超时", "d": "%(d)s天", "dh": "%(d)s天%(h)s小时", "h": "%(h)s小时",
    "hm": "%(h)s小时%(m)s分", "m": "%(m)s分钟", "lt": "不足1分钟"
  };

  function pattern(el, name) {
    var key = (name === "left" || name === "over") ? "data-" + name : "data-fmt-" + name;
    return el.getAttribute(key) || DEFAULTS[name];
  }

  function fill(text, values) {
    return text.replace(/%\((\w)\)s/g, function (_all, k) { return String(values[k]); });
  }

  function format(el, ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var d = Math.floor(minutes / 1440);
    var h = Math.floor((minutes % 1440) / 60);
    var m = minutes % 60;
    var values = { d: d, h: h, m: m };
    if (d && h) { return fill(pattern(el, "dh"), values); }
    if (d) { return fill(pattern(el, "d"), values); }
    if (h && m) { return fill(pattern(el, "hm"), values); }
    if (h) { return fill(pattern(el, "h"), values); }
    if (m) { return fill(pattern(el, "m"), values); }
    return pattern(el, "lt");
  }

  function offsetOf(el) {
    // The server's clock minus the browser's, fixed when the element is first seen.
    var known = el.getAttribute("data-offset");
    if (known !== null) { return Number(known) || 0; }
    var serverNow = Date.parse(el.getAttribute("data-now") || "");
    var offset = isNaN(serverNow) ? 0 : serverNow - Date.now();
    el.setAttribute("data-offset", String(offset));
    return offset;
  }

  function tick() {
    var nodes = document.querySelectorAll("time.countdown[datetime]");
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i];
      if (el.getAttribute("data-done") === "1") { continue; }
      var deadline = Date.parse(el.getAttribute("datetime"));
      if (isNaN(deadline)) { continue; }
      var left = deadline - (Date.now() + offsetOf(el));
      var label = pattern(el, left >= 0 ? "left" : "over");
      el.textContent = label + " " + format(el, left);
      el.classList.toggle("overdue", left < 0);
    }
  }

  tick();
  window.setInterval(tick, 5000);
  document.addEventListener("htmx:afterSettle", tick);
})();
