/* Statistics pages (stats/): charts drawn with the vendored Chart.js from the page's chart data
   (<div id="stats-data" data-charts="…JSON…">). Each <canvas data-chart="key" data-kind="bar|hbar|line|doughnut">
   takes the entry "key": {labels, values, label} or {labels, series: [{label, values}]}. No inline script. */
(function () {
  "use strict";
  var island = document.getElementById("stats-data");
  if (!island || typeof window.Chart === "undefined") { return; }
  var data;
  try { data = JSON.parse(island.getAttribute("data-charts") || "{}"); } catch (e) { return; }
  var palette = ["#b3261e", "#1f6feb", "#2da44e", "#d4a72c", "#8250df", "#e16f24", "#0a7d8c", "#6e7781",
                 "#bf3989", "#57606a", "#7d4e00", "#116329"];
  var font = {family: "system-ui, -apple-system, 'PingFang SC', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"};
  Chart.defaults.font.family = font.family;
  Chart.defaults.animation = false;

  function datasets(entry, kind) {
    if (entry.series) {
      return entry.series.map(function (s, i) {
        return {label: s.label, data: s.values, backgroundColor: palette[i % palette.length],
                borderColor: palette[i % palette.length], fill: false, tension: 0.2, pointRadius: 2};
      });
    }
    var colors = kind === "doughnut" ? entry.values.map(function (_v, i) { return palette[i % palette.length]; })
                                     : palette[0];
    return [{label: entry.label || "", data: entry.values, backgroundColor: colors, borderColor: colors}];
  }

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var entry = data[canvas.getAttribute("data-chart")];
    if (!entry) { return; }
    var kind = canvas.getAttribute("data-kind") || "bar";
    var horizontal = kind === "hbar";
    var type = horizontal ? "bar" : kind;
    if (type === "line" && entry.labels.length < 2) { type = "bar"; }  // one day of sign-ups: a bar, not a lone dot
    var options = {
      responsive: true, maintainAspectRatio: false,
      plugins: {legend: {display: kind === "doughnut" || !!entry.series, position: "bottom"}},
    };
    if (type !== "doughnut") {
      var valueAxis = {beginAtZero: true, ticks: {precision: 0}};
      if (entry.percent) { valueAxis.max = 100; valueAxis.ticks = {callback: function (v) { return v + "%"; }}; }
      var labelAxis = {ticks: {autoSkip: true, maxRotation: 0}};
      if (horizontal) {
        options.indexAxis = "y";
        options.scales = {x: valueAxis, y: {ticks: {autoSkip: false, callback: function (v) {
          var text = this.getLabelForValue(v);
          return text.length > 12 ? text.slice(0, 11) + "…" : text;
        }}}};
      } else {
        options.scales = {y: valueAxis, x: labelAxis};
      }
    }
    new Chart(canvas, {type: type, data: {labels: entry.labels, datasets: datasets(entry, kind)}, options: options});
    canvas.setAttribute("data-drawn", "1");
  });
})();
