// Big screen (大屏): shows the public board of a competition, scrolls long lists by itself, moves from group to
// group, and refreshes within a few seconds of a change by polling a tiny version endpoint (no page reload; the
// version lives in the database, so this works behind several app servers). Text goes in with textContent only.
(function () {
  "use strict";
  var root = document.getElementById("screen");
  if (!root) return;
  var boardUrl = root.getAttribute("data-board-url");
  var versionUrl = root.getAttribute("data-version-url");
  var pollMs = parseInt(root.getAttribute("data-poll-ms"), 10) || 2000;
  var pinned = root.getAttribute("data-pinned") || "";
  var version = root.getAttribute("data-version");
  var tiers = [];
  try { tiers = JSON.parse(root.getAttribute("data-tiers") || "[]"); } catch (e) { tiers = []; }
  var label = function (name) { return root.getAttribute("data-label-" + name) || ""; };
  var main = document.getElementById("screen-main");
  var boardName = document.getElementById("screen-board");
  var statusLine = document.getElementById("screen-status");
  var data = null;
  var index = 0;
  var pauseUntil = Date.now() + 4000;
  var busy = false;
  var previousTotals = {};

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function currentBoard() {
    if (!data || !data.boards.length) return null;
    if (pinned) {
      for (var i = 0; i < data.boards.length; i++) if (data.boards[i].key === pinned) return data.boards[i];
    }
    if (index >= data.boards.length) index = 0;
    return data.boards[index];
  }

  function awardNode(award) {
    if (!award) return el("span");
    var position = tiers.indexOf(award);
    return el("span", "award award-" + (position >= 0 && position < 3 ? position + 1 : "other"), award);
  }

  function render(keepScroll) {
    var board = currentBoard();
    var scroll = main.scrollTop;
    main.textContent = "";
    if (data && data.status) {
      statusLine.textContent = data.status.state_text + (data.status.frozen ? " · " + data.status.frozen_text : "");
    }
    if (!board) {
      boardName.textContent = "";
      main.appendChild(el("div", "screen-message", label("hidden")));
      return;
    }
    boardName.textContent = board.name;
    var names = data.mode === "names";
    var table = el("table", "screen-table" + (names ? "" : " codes-only"));
    table.id = "screen-table";
    var head = el("tr");
    head.appendChild(el("th", "col-rank", label("rank")));
    head.appendChild(el("th", "col-code", label("code")));
    if (names) {
      head.appendChild(el("th", "col-name", label("name")));
      head.appendChild(el("th", "col-unit", label("unit")));
    }
    head.appendChild(el("th", "col-total", label("total")));
    head.appendChild(el("th", "col-award", label("award")));
    var thead = el("thead");
    thead.appendChild(head);
    table.appendChild(thead);
    var body = el("tbody");
    body.id = "screen-rows";
    if (!board.entries.length) {
      var empty = el("tr");
      var cell = el("td", "", label("empty"));
      cell.colSpan = names ? 6 : 4;
      empty.appendChild(cell);
      body.appendChild(empty);
    }
    board.entries.forEach(function (entry) {
      var row = el("tr");
      var key = board.key + ":" + entry.code;
      if (previousTotals[key] !== undefined && previousTotals[key] !== entry.total) row.className = "is-new";
      previousTotals[key] = entry.total;
      row.appendChild(el("td", "col-rank", entry.rank));
      row.appendChild(el("td", "col-code", entry.code));
      if (names) {
        row.appendChild(el("td", "col-name", entry.name));
        row.appendChild(el("td", "col-unit", entry.unit));
      }
      row.appendChild(el("td", "col-total", entry.total));
      var award = el("td", "col-award");
      award.appendChild(awardNode(entry.award));
      row.appendChild(award);
      body.appendChild(row);
    });
    table.appendChild(body);
    main.appendChild(table);
    main.scrollTop = keepScroll ? Math.min(scroll, main.scrollHeight) : 0;
  }

  function load(keepScroll) {
    return fetch(boardUrl, { cache: "no-store", credentials: "omit", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (fresh) {
        if (!fresh) return;
        data = fresh;
        version = String(fresh.version);
        if (fresh.tiers) tiers = fresh.tiers;
        render(keepScroll);
      });
  }

  function poll() {
    if (busy) return;
    busy = true;
    fetch(versionUrl, { cache: "no-store", credentials: "omit", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (answer) {
        if (answer && String(answer.version) !== String(version)) return load(true);
      })
      .catch(function () { /* the network blinked: try again at the next tick */ })
      .then(function () { busy = false; });
  }

  // Scrolling: a slow, steady crawl; a pause at the top and at the bottom; then the next group (unless pinned).
  function step() {
    var now = Date.now();
    if (now < pauseUntil) return;
    var max = main.scrollHeight - main.clientHeight;
    if (max <= 2) {
      if (!pinned && data && data.boards.length > 1 && now >= pauseUntil) {
        index = (index + 1) % data.boards.length;
        render(false);
        pauseUntil = now + 10000;
      }
      return;
    }
    if (main.scrollTop >= max - 1) {
      if (!pinned && data && data.boards.length > 1) {
        index = (index + 1) % data.boards.length;
        render(false);
      } else {
        main.scrollTop = 0;
      }
      pauseUntil = now + 5000;
      return;
    }
    main.scrollTop = main.scrollTop + Math.max(1, Math.round(main.clientHeight / 600));
    if (main.scrollTop >= max - 1) pauseUntil = now + 5000;
  }

  function clock() {
    var now = new Date();
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    document.getElementById("screen-clock").textContent = pad(now.getHours()) + ":" + pad(now.getMinutes()) + ":" + pad(now.getSeconds());
  }

  var button = document.getElementById("screen-fullscreen");
  if (button) {
    button.addEventListener("click", function () {
      var target = document.documentElement;
      if (target.requestFullscreen) target.requestFullscreen().catch(function () {});
    });
  }

  load(false).catch(function () {});
  setInterval(poll, pollMs);
  setInterval(step, 40);
  setInterval(clock, 1000);
  clock();
})();
