// Judging process page: the appeal deadline counting down (公示). The server's deadline is in data-deadline (ISO).
(function () {
  "use strict";
  var node = document.querySelector(".process-countdown[data-deadline]");
  if (!node) { return; }
  var deadline = Date.parse(node.getAttribute("data-deadline"));
  var left = node.querySelector(".process-countdown-left");
  if (isNaN(deadline) || !left) { return; }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var ms = deadline - Date.now();
    if (ms <= 0) { left.textContent = node.getAttribute("data-done-text") || ""; return; }
    var s = Math.floor(ms / 1000);
    left.textContent = Math.floor(s / 3600) + ":" + pad(Math.floor(s / 60) % 60) + ":" + pad(s % 60);
    window.setTimeout(tick, 1000);
  }
  tick();
})();
