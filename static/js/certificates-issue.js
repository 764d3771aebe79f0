// The certificate issue form: show the settings of the chosen source only, and tick or untick all attendees.
(function () {
  "use strict";
  var form = document.getElementById("issue-form");
  if (!form) return;

  function sync() {
    var chosen = form.querySelector("input.cert-source:checked");
    var value = chosen ? chosen.value : "";
    form.querySelectorAll(".cert-source-panel").forEach(function (panel) {
      var sources = (panel.getAttribute("data-source") || "").split(" ");
      panel.classList.toggle("is-hidden", sources.indexOf(value) === -1);
    });
  }

  form.addEventListener("change", function (event) {
    if (event.target.classList.contains("cert-source")) sync();
  });
  form.addEventListener("click", function (event) {
    var all = event.target.closest("[data-check-all]");
    var none = event.target.closest("[data-check-none]");
    var button = all || none;
    if (!button) return;
    var name = button.getAttribute(all ? "data-check-all" : "data-check-none");
    form.querySelectorAll("input[type=checkbox][name='" + name + "']").forEach(function (box) {
      box.checked = !!all;
    });
  });
  sync();
})();
