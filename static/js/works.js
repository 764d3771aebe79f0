// Upload forms of submitted works (templates/competition/works_macros.html): a file larger than the limit is
// refused here, before it is sent, with the same message the server would give.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("works-upload")) { return; }
    var input = form.querySelector("input[type=file]");
    var box = form.querySelector(".works-upload-error");
    var limit = parseInt(form.getAttribute("data-max-bytes"), 10);
    if (box) { box.hidden = true; box.textContent = ""; }
    if (input && input.files && input.files.length && limit && input.files[0].size > limit) {
      event.preventDefault();
      if (box) { box.textContent = form.getAttribute("data-msg-too-large"); box.hidden = false; }
    }
  });
})();
