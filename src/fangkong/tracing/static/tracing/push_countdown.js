/* Countdowns to the deadlines of pushed lists (推送核查). Each element
   <time class="countdown" datetime="ISO" data-left="剩余" data-over="已超时"> shows the time
   left (or overdue) and turns red once overdue. No library; updates once a second. */
(function () {
  "use strict";

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function format(ms) {
    var total = Math.floor(Math.abs(ms) / 1000);
    var days = Math.floor(total / 86400);
    var h = Math.floor((total % 86400) / 3600);
    var m = Math.floor((total % 3600) / 60);
    var s = total % 60;
    return (days ? days + "d " : "") + pad(h) + ":" + pad(m) + ":" + pad(s);
  }

  function tick() {
    var now = Date.now();
    var nodes = document.querySelectorAll("time.countdown[datetime]");
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i];
      if (el.getAttribute("data-done") === "1") { continue; }
      var deadline = Date.parse(el.getAttribute("datetime"));
      if (isNaN(deadline)) { continue; }
      var left = deadline - now;
      var label = left >= 0 ? el.getAttribute("data-left") : el.getAttribute("data-over");
      el.textContent = (label || "") + " " + format(left);
      el.classList.toggle("overdue", left < 0);
    }
  }

  tick();
  window.setInterval(tick, 1000);
  document.addEventListener("htmx:afterSwap", tick);
})();
