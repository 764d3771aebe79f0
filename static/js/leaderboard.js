// Live boards (organizers' results page, public results page): poll a tiny version endpoint; when the version
// moves, fetch the board's HTML fragment and swap it in. No page reload; works across app servers because the
// version lives in the database.
(function () {
  "use strict";
  var box = document.getElementById("results-board");
  if (!box) return;
  var versionUrl = box.getAttribute("data-version-url");
  var fragmentUrl = box.getAttribute("data-fragment-url");
  var version = box.getAttribute("data-version");
  var every = parseInt(box.getAttribute("data-poll-ms"), 10) || 5000;
  var busy = false;

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; });
  }

  function refresh(newVersion) {
    return fetch(fragmentUrl, { credentials: "same-origin", cache: "no-store", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) return;
        box.innerHTML = html;
        version = newVersion;
        box.setAttribute("data-version", version);
        box.dispatchEvent(new CustomEvent("results:refreshed", { bubbles: true }));
      });
  }

  function tick() {
    if (busy || document.hidden) return;
    busy = true;
    getJSON(versionUrl)
      .then(function (data) {
        if (data && data.version !== undefined && String(data.version) !== String(version)) {
          return refresh(String(data.version));
        }
      })
      .catch(function () { /* offline for a moment: keep the last board */ })
      .then(function () { busy = false; });
  }

  setInterval(tick, every);
  document.addEventListener("visibilitychange", tick);
})();
