// Organizers' live check-in view: fetch the figures every 10 seconds and swap them in (no page reload).
(function () {
  "use strict";
  var box = document.getElementById("live-figures");
  if (!box) return;
  var url = box.getAttribute("data-refresh-url");
  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html) box.innerHTML = html; })
      .catch(function () { /* offline for a moment: keep the last figures */ });
  }
  setInterval(refresh, 10000);
})();
