// Draws the dashboard charts: every element with data-chart names the json_script element that
// holds its data (built server-side; no data is ever written into JavaScript source).
(function () {
  "use strict";
  var FLAG_COLOURS = { leader: "#2e7d32", laggard: "#c62828" };
  var DEFAULT_BAR = "#5470c6";

  function lineOption(data) {
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0, type: "scroll" },
      grid: { left: 56, right: 24, top: 40, bottom: 40 },
      xAxis: { type: "category", data: data.categories },
      yAxis: { type: "value", name: data.unit || "", scale: true },
      series: data.series.map(function (s) {
        return {
          name: s.name,
          type: "line",
          data: s.data,
          connectNulls: true,
          showSymbol: !s.dashed,
          lineStyle: s.dashed ? { type: "dashed" } : undefined
        };
      })
    };
  }

  function barOption(data) {
    return {
      tooltip: { trigger: "axis" },
      grid: { left: 56, right: 24, top: 24, bottom: 60 },
      xAxis: { type: "category", data: data.categories, axisLabel: { interval: 0, rotate: 30 } },
      yAxis: { type: "value", name: data.unit || "", scale: true },
      series: data.series.map(function (s) {
        return {
          name: s.name,
          type: "bar",
          data: s.data.map(function (point) {
            return { value: point.value, itemStyle: { color: FLAG_COLOURS[point.flag] || DEFAULT_BAR } };
          })
        };
      })
    };
  }

  function draw(element) {
    var source = document.getElementById(element.getAttribute("data-chart"));
    if (!source || typeof echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    if (!data.categories || data.categories.length === 0) {
      element.style.display = "none";
      return;
    }
    var chart = echarts.init(element);
    chart.setOption(data.type === "bar" ? barOption(data) : lineOption(data));
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chart]").forEach(draw);
  });
})();
