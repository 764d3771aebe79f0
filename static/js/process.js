// Judging process page: the appeal deadline counting down (公示); the revision form's score picker.
(function () {
  "use strict";
  // The server's deadline is in data-deadline (ISO).
  var node = document.querySelector(".process-countdown[data-deadline]");
  if (!node) { return; }
  var deadline = Date.parse(node.getAttribute("data-deadline"));
  var left = node.querySelector(".process-countdown-left");
  if (isNaN(deadline) || !left) { return; }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var ms = deadline - Date.now();
    if (ms <= 0) { left.textContent = node.getAttribute("data-done-text") || ""; return; }
    var s = Math.floor(ms / 1000);
    left.textContent = Math.floor(s / 3600) + ":" + pad(Math.floor(s / 60) % 60) + ":" + pad(s % 60);
    window.setTimeout(tick, 1000);
  }
  tick();
})();

(function () {
  "use strict";
  // Revision picker: entrant → judge → criterion. Without script the one list of every score (with entrant and
  // judge in each line) works alone; with it, the two filters narrow that list down. The server checks the score.
  var box = document.querySelector("[data-picker]");
  if (!box) { return; }
  var entrant = box.querySelector("[data-picker-entrant]");
  var judge = box.querySelector("[data-picker-judge]");
  var score = box.querySelector("[data-picker-score]");
  if (!entrant || !judge || !score) { return; }
  var none = score.options[0];
  var scores = [];
  Array.prototype.forEach.call(score.options, function (option) {
    if (option.value) {
      scores.push({ value: option.value, entrant: option.getAttribute("data-entrant"),
                    judge: option.getAttribute("data-judge"), text: option.getAttribute("data-short") || option.text });
    }
  });
  var judges = [];
  Array.prototype.forEach.call(judge.options, function (option) {
    if (option.value) { judges.push({ value: option.value, text: option.text }); }
  });
  var chooseJudge = judge.options[0].text;
  var chooseCriterion = score.getAttribute("data-choose-text") || "";

  function option(value, text) {
    var item = document.createElement("option");
    item.value = value;
    item.textContent = text;
    return item;
  }
  function fillJudges() {
    var has = {};
    scores.forEach(function (s) { if (s.entrant === entrant.value) { has[s.judge] = true; } });
    judge.textContent = "";
    judge.appendChild(option("", chooseJudge));
    judges.forEach(function (j) { if (has[j.value]) { judge.appendChild(option(j.value, j.text)); } });
    judge.disabled = !entrant.value;
  }
  function fillScores() {
    score.textContent = "";
    if (!entrant.value || !judge.value) {
      score.appendChild(none);
      score.disabled = !!entrant.value;
      return;
    }
    score.disabled = false;
    score.appendChild(option("", chooseCriterion));
    scores.forEach(function (s) {
      if (s.entrant === entrant.value && s.judge === judge.value) { score.appendChild(option(s.value, s.text)); }
    });
  }
  entrant.addEventListener("change", function () { fillJudges(); fillScores(); });
  judge.addEventListener("change", fillScores);
  Array.prototype.forEach.call(box.querySelectorAll("[data-picker-filters]"), function (node) { node.hidden = false; });
  fillJudges();
  fillScores();
})();
