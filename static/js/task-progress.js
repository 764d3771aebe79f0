// A background task's progress page: ask /api/v1/tasks/<id> how far the task got, every second and a half while
// it is queued or running, and move the bar; when it is done, show the download link.
(function () {
  "use strict";
  var box = document.getElementById("task-progress");
  if (!box) return;
  var url = box.getAttribute("data-status-url");
  var bar = box.querySelector(".progress-bar");
  var track = box.querySelector(".progress");
  var download = document.getElementById("task-download");
  var STYLES = { queued: "secondary", running: "primary", done: "success", failed: "danger", cancelled: "dark" };

  function field(name) { return box.querySelector('[data-task-field="' + name + '"]'); }
  function show(name, visible) {
    box.querySelectorAll('[data-task-show="' + name + '"]').forEach(function (el) {
      el.classList.toggle("d-none", !visible);
    });
  }
  function setWidth(percent) {
    // The CSP forbids style= attributes in the page, not styles set from a script of ours.
    bar.style.width = Math.max(0, Math.min(100, percent)) + "%";
    track.setAttribute("aria-valuenow", String(percent));
  }

  function render(task) {
    box.setAttribute("data-state", task.state);
    setWidth(task.percent);
    var badge = field("state_label");
    badge.textContent = task.state_label;
    badge.className = "badge text-bg-" + (STYLES[task.state] || "secondary");
    field("percent").textContent = task.percent + "%";
    if (task.total !== null && task.total !== undefined) {
      field("counts").textContent = (box.getAttribute("data-counts") || "{done} / {total}")
        .replace("{done}", task.done).replace("{total}", task.total);
    }
    if (task.finished_at_local) field("finished").textContent = task.finished_at_local;
    bar.classList.toggle("progress-bar-striped", task.active);
    bar.classList.toggle("progress-bar-animated", task.active);
    bar.classList.toggle("bg-success", task.state === "done");
    bar.classList.toggle("bg-danger", task.state === "failed");
    show("active", task.active);
    show("failed", task.state === "failed");
    show("expired", !!task.file_expired);
    if (task.error) field("error").textContent = task.error;
    if (download) {
      if (task.download_url) download.setAttribute("href", task.download_url);
      download.classList.toggle("d-none", !task.download_url);
    }
  }

  var delay = 1500;
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        delay = 1500;
        if (data && data.task) {
          render(data.task);
          if (!data.task.active) return; // finished: stop asking
        }
        setTimeout(poll, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 15000); // offline for a moment: ask again, less often
        setTimeout(poll, delay);
      });
  }

  setWidth(parseInt(bar.getAttribute("data-percent"), 10) || 0);
  if (box.getAttribute("data-state") === "queued" || box.getAttribute("data-state") === "running") {
    setTimeout(poll, 500);
  }
})();
