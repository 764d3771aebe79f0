// Criterion form: show "full mark or zero" for measurement criteria, the 0–3 ladder for judgement criteria, and the
// level descriptors only when the ladder is on. Without JavaScript every field stays visible and the server checks.
(function () {
  "use strict";
  var form = document.querySelector(".criterion-form");
  if (!form) return;
  var kind = form.querySelector("[data-criterion-kind]");
  var ladder = form.querySelector("[data-ladder-toggle]");
  var levels = form.querySelector("[data-ladder-levels]");
  function update() {
    var value = kind ? kind.value : "";
    form.querySelectorAll("[data-show-for]").forEach(function (block) {
      block.hidden = block.getAttribute("data-show-for") !== value;
      if (block.hidden) {  // a hidden option must not be sent: it belongs to the other kind
        block.querySelectorAll("input[type=checkbox]").forEach(function (box) { box.checked = false; });
      }
    });
    if (levels) levels.hidden = !(value === "judgement" && ladder && ladder.checked);
  }
  if (kind) kind.addEventListener("change", update);
  if (ladder) ladder.addEventListener("change", update);
  update();
})();
