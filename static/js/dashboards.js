// Draws the dashboard charts: every element with data-chart names the json_script element that
// holds its data (built server-side; no data is ever written into JavaScript source).
(function () {
  "use strict";
  var FLAG_COLOURS = { leader: "#2e7d32", laggard: "#c62828" };
  var DEFAULT_BAR = "#5470c6";
  var LABEL_CHARS = 8;

  // The grid keeps the axis labels inside the chart (containLabel), with room above the plot
  // for the unit, so that neither long names nor the unit are cut off at the edges.
  function grid(top, bottom, left) {
    return { left: left || 12, right: 24, top: top, bottom: bottom, containLabel: true };
  }

  // The value axis names its unit, written rightwards from the axis so that it never runs off
  // the chart's left edge.
  function valueAxis(data, extra) {
    var axis = { type: "value", name: data.unit || "", nameGap: 12,
                 nameTextStyle: { align: "left" } };
    Object.keys(extra).forEach(function (key) { axis[key] = extra[key]; });
    return axis;
  }

  function pointValue(point) {
    return point !== null && typeof point === "object" ? point.value : point;
  }

  function lowest(data) {
    var low = Infinity;
    data.series.forEach(function (s) {
      s.data.forEach(function (point) {
        var value = pointValue(point);
        if (typeof value === "number" && value < low) { low = value; }
      });
    });
    return low;
  }

  function shorten(label) {
    return label.length > LABEL_CHARS ? label.slice(0, LABEL_CHARS - 1) + "…" : label;
  }

  function lineOption(data) {
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0, type: "scroll" },
      grid: grid(48, 12),
      xAxis: { type: "category", data: data.categories },
      // A line shows movement: its axis may start near the values.
      yAxis: valueAxis(data, { scale: true }),
      series: data.series.map(function (s) {
        return {
          name: s.name,
          type: "line",
          // A period that is not complete (暂定, or scored from part of the indicators) is a
          // hollow grey point: the line still shows it, the eye does not read it as a value.
          data: s.data.map(function (point) {
            return point && point.flag === "incomplete"
              ? { value: point.value, symbol: "emptyCircle", symbolSize: 7,
                  itemStyle: { color: "#9e9e9e" } }
              : point;
          }),
          connectNulls: true,
          showSymbol: !s.dashed,
          lineStyle: s.dashed ? { type: "dashed" } : undefined
        };
      })
    };
  }

  function barOption(data) {
    var many = data.categories.length > 8;
    return {
      tooltip: { trigger: "axis" },
      // A slanted first name reaches left of the plot, further than containLabel allows for.
      grid: grid(36, 8, many ? 64 : 12),
      xAxis: { type: "category", data: data.categories,
               axisLabel: { interval: 0, rotate: many ? 40 : 0, formatter: shorten } },
      // A bar's length is its value: the axis starts at zero (or below, for negative values),
      // never at the smallest value, where the smallest bars would vanish.
      yAxis: valueAxis(data, lowest(data) < 0 ? { scale: false }
        : { min: 0, axisLabel: { showMinLabel: true } }),
      series: data.series.map(function (s) {
        return {
          name: s.name,
          type: "bar",
          data: s.data.map(function (point) {
            return { value: pointValue(point),
                     itemStyle: { color: FLAG_COLOURS[point && point.flag] || DEFAULT_BAR } };
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
