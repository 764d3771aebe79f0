// Show a sign-up question only when the earlier choice it depends on has the given answer.
// The server applies the same rule, so a hidden question is never required.
(function () {
  "use strict";
  var blocks = document.querySelectorAll("[data-condition-key]");
  if (!blocks.length) return;
  function chosen(name) {
    return Array.prototype.map.call(
      document.querySelectorAll('input[name="' + name + '"]:checked'), function (i) { return i.value; });
  }
  function update() {
    blocks.forEach(function (block) {
      var visible = chosen(block.getAttribute("data-condition-key")).indexOf(block.getAttribute("data-condition-value")) !== -1;
      block.hidden = !visible;
      block.querySelectorAll("input, textarea, select").forEach(function (input) {
        if (!input.hasAttribute("data-full")) input.disabled = !visible;
      });
    });
  }
  document.addEventListener("change", update);
  update();
})();
