// The certificate design editor: show the custom-background and pre-printed settings only when they apply, dim
// switched-off fields, and keep the preview up to date while the organizer edits (the form is posted, unsaved,
// to the preview address; the PNG comes back as a blob: URL, allowed by the CSP's img-src).
(function () {
  "use strict";
  var form = document.getElementById("design-form");
  if (!form) return;
  var labels = JSON.parse(form.getAttribute("data-preview-labels") || "{}");
  var fieldLabels = JSON.parse(form.getAttribute("data-field-labels") || "{}");
  var base = form.querySelector("[name=base]");
  var preprinted = form.querySelector("[name=preprinted]");
  var state = document.getElementById("preview-state");
  var errors = document.getElementById("preview-errors");
  var overflow = document.getElementById("preview-overflow");
  var images = [document.getElementById("preview-sample"), document.getElementById("preview-longest")];
  var timer = null;
  var generation = 0;
  var objectUrls = {};

  function toggle(selector, show) {
    form.querySelectorAll(selector).forEach(function (el) { el.classList.toggle("is-hidden", !show); });
  }

  function syncSections() {
    toggle(".cert-custom-only", base && base.value === "custom");
    toggle(".cert-preprinted-only", preprinted && preprinted.checked);
    form.querySelectorAll(".cert-field").forEach(function (fieldset) {
      var box = fieldset.querySelector("input[type=checkbox]");
      fieldset.classList.toggle("is-off", box && !box.checked);
    });
  }

  function showErrors(messages) {
    errors.textContent = "";
    if (!messages.length) { errors.classList.add("d-none"); return; }
    var list = document.createElement("ul");
    list.className = "mb-0";
    messages.forEach(function (m) {
      var item = document.createElement("li");
      item.textContent = m;
      list.appendChild(item);
    });
    errors.appendChild(list);
    errors.classList.remove("d-none");
  }

  function showOverflow(names) {
    if (!overflow) return;
    var shown = names.filter(Boolean).map(function (n) { return fieldLabels[n] || n; });
    overflow.classList.toggle("d-none", shown.length === 0);
    if (shown.length) {
      overflow.textContent = (overflow.getAttribute("data-label") || "{fields}").replace("{fields}", shown.join("、"));
    }
  }

  function refresh() {
    var mine = ++generation;
    var data = new FormData(form);
    data.delete("background");
    state.textContent = labels.working || "";
    images.forEach(function (img) { if (img) img.classList.add("is-stale"); });
    var overflowing = {};
    var requests = images.map(function (img) {
      if (!img) return Promise.resolve(null);
      return fetch(img.getAttribute("data-url"), { method: "POST", body: data, credentials: "same-origin",
                                                    headers: { "X-Requested-With": "fetch" } })
        .then(function (response) {
          if (response.status === 422) {
            return response.json().then(function (body) { throw { messages: body.errors || [] }; });
          }
          if (!response.ok) throw { messages: [labels.failed || "Preview failed"] };
          (response.headers.get("X-Certificate-Overflow") || "").split(",").forEach(function (n) {
            if (n) overflowing[n] = true;
          });
          return response.blob();
        })
        .then(function (blob) {
          if (mine !== generation || !blob) return;
          var url = URL.createObjectURL(blob);
          if (objectUrls[img.id]) URL.revokeObjectURL(objectUrls[img.id]);
          objectUrls[img.id] = url;
          img.src = url;
          img.classList.remove("is-stale");
        });
    });
    Promise.all(requests).then(function () {
      if (mine !== generation) return;
      showErrors([]);
      showOverflow(Object.keys(overflowing));
      state.textContent = labels.done || "";
    }, function (problem) {
      if (mine !== generation) return;
      showErrors((problem && problem.messages) || [labels.failed || "Preview failed"]);
      state.textContent = "";
    });
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 700);
  }

  form.addEventListener("input", function (event) {
    if (event.target.type === "file") return;
    syncSections();
    schedule();
  });
  form.addEventListener("change", function (event) {
    if (event.target.type === "file") return;
    syncSections();
    schedule();
  });
  syncSections();
})();
