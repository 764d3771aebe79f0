// The sign-up list: a header checkbox ticks or clears every row checkbox of the bulk form (data-check-all="ids").
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var all = event.target.closest("[data-check-all]");
    if (!all) return;
    var name = all.getAttribute("data-check-all");
    document.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (box) {
      box.checked = all.checked;
    });
  });
})();
