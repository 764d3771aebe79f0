// The chief judge's desk (templates/judging/desk.html): every few seconds the progress matrix is read again from
// progress.json and updated in place (cell states, counts, who is behind, the entrant waiting on one judge). When the
// disagreements or re-score requests changed, a notice asks to reload (forms on the page are never redrawn under the
// chief judge's fingers). All texts come from data- attributes of #desk.
(function () {
  "use strict";
  var root = document.getElementById("desk");
  if (!root) { return; }
  var ds = root.dataset;
  var every = Math.max(2, parseInt(ds.pollSeconds, 10) || 5) * 1000;
  var changedBox = document.getElementById("desk-changed");
  var updated = document.getElementById("desk-updated");
  var STATES = ["not_started", "draft", "submitted"];
  var labels = { not_started: ds.msgNotStarted, draft: ds.msgDraft, submitted: ds.msgSubmitted };
  var timer = null;

  function fmt(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (_, name) {
      return values[name] == null ? "" : String(values[name]);
    });
  }

  function clock(iso) {
    if (!iso) { return ""; }
    var date = new Date(iso);
    if (isNaN(date.getTime())) { return ""; }
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return pad(date.getHours()) + ":" + pad(date.getMinutes());
  }

  function setState(node, state) {
    STATES.forEach(function (s) { node.classList.remove("state-" + s); });
    node.classList.add("state-" + state);
  }

  function updatePanel(data) {
    var box = root.querySelector('.desk-panel[data-panel="' + data.id + '"]');
    if (!box) { return false; }
    var fits = true;
    data.cells.forEach(function (cell) {
      var td = box.querySelector('tr[data-entrant="' + cell.entrant + '"] td[data-judge="' + cell.judge + '"]');
      if (!td || !td.classList.contains("desk-cell")) { fits = false; return; }
      setState(td, cell.state);
      setState(td.querySelector(".desk-dot"), cell.state);
      td.classList.toggle("is-reopened", !!cell.reopened);
      td.querySelector(".desk-cell-text").textContent = labels[cell.state] + (cell.reopened ? " · " + ds.msgReopened : "");
      td.querySelector(".desk-cell-time").textContent = clock(cell.last_change);
    });
    data.entrants.forEach(function (entrant) {
      var row = box.querySelector('tr[data-entrant="' + entrant.id + '"]');
      if (!row) { fits = false; return; }
      row.classList.toggle("is-waiting", entrant.waiting_on != null);
      Array.prototype.forEach.call(row.querySelectorAll("td[data-judge]"), function (td) {
        var waiting = entrant.waiting_on != null && String(entrant.waiting_on) === td.getAttribute("data-judge");
        td.classList.toggle("is-waiting", waiting);
        if (waiting) { td.setAttribute("aria-description", ds.msgWaiting); } else { td.removeAttribute("aria-description"); }
      });
    });
    data.judges.forEach(function (judge) {
      var th = box.querySelector('th[data-judge="' + judge.id + '"]');
      if (!th) { fits = false; return; }
      th.classList.toggle("is-behind", !!judge.behind);
      th.querySelector("[data-judge-count]").textContent = judge.submitted + "/" + judge.assigned;
      th.querySelector("[data-judge-behind]").hidden = !judge.behind;
    });
    var count = box.querySelector("[data-panel-count]");
    if (count && count.dataset.template) { count.textContent = fmt(count.dataset.template, { done: data.submitted, total: data.slots }); }
    return fits;
  }

  function notice(message) {
    changedBox.textContent = "";
    if (!message) { changedBox.hidden = true; return; }
    changedBox.appendChild(document.createTextNode(message + " "));
    var link = document.createElement("a");
    link.href = window.location.href;
    link.className = "alert-link";
    link.textContent = ds.msgReload;
    changedBox.appendChild(link);
    changedBox.hidden = false;
  }

  function poll() {
    fetch(ds.progressUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (data) {
        var fits = true;
        (data.panels || []).forEach(function (panel) { fits = updatePanel(panel) && fits; });
        if (!fits || (data.signature != null && data.signature !== ds.signature)) { notice(ds.msgChanged); }
        updated.textContent = fmt(ds.msgUpdated, { time: clock(data.generated_at) });
      })
      .catch(function () { updated.textContent = ds.msgOffline; })
      .then(function () { timer = setTimeout(poll, every); });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { clearTimeout(timer); poll(); }
  });
  timer = setTimeout(poll, every);
})();
