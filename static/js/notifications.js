// The "message to many" form: the table of sign-ups to tick shows only when "the sign-ups ticked below" is chosen.
(function () {
  "use strict";
  var selection = document.getElementById("bulk-selection");
  if (!selection) return;
  function update() {
    var chosen = document.querySelector('input[name="audience"]:checked');
    selection.classList.toggle("is-hidden", !chosen || chosen.value !== "selected");
  }
  document.addEventListener("change", function (event) {
    if (event.target.name === "audience") update();
  });
  update();
})();
