// Draws the cockpit and big-screen charts: every element with data-chart names the json_script
// element that holds its data (built server-side; no data is ever written into JavaScript source).
// On the big screen (body data-theme="dark") charts use ECharts' dark theme and larger type.
(function () {
  "use strict";
  var dark = document.body && document.body.getAttribute("data-theme") === "dark";
  var fontSize = dark ? 18 : 12;
  var RANK_COLOURS = { first: "#2e7d32", last: "#c62828", other: "#5470c6" };

  function textStyle() {
    return { fontSize: fontSize };
  }

  // Axis labels stay inside the chart (containLabel) and the unit has room above the plot,
  // written rightwards from the axis: neither is cut off at the chart's edges.
  function grid(top, bottom) {
    return { left: 12, right: 24, top: top, bottom: bottom, containLabel: true };
  }

  function unitName(data) {
    return { name: data.unit || "", nameGap: 12,
             nameTextStyle: { align: "left", fontSize: dark ? fontSize - 4 : fontSize } };
  }

  function lineOption(data) {
    return {
      backgroundColor: "transparent",
      tooltip: { trigger: "axis" },
      grid: grid(dark ? 40 : 36, 8),
      xAxis: { type: "category", data: data.categories, axisLabel: textStyle() },
      // Fewer ticks on the big screen: its panels are short and its type is large.
      yAxis: Object.assign({ type: "value", scale: true, splitNumber: dark ? 3 : 5,
                             axisLabel: textStyle() }, unitName(data)),
      series: data.series.map(function (s) {
        return { name: s.name, type: "line", data: s.data, connectNulls: true, smooth: true,
                 areaStyle: { opacity: 0.15 } };
      })
    };
  }

  // A bar chart of districts by rank (first green, last red), or of a few figures with their
  // own colours (data.colours), decimals (data.decimals, default 1) and axis maximum (data.max).
  function barOption(data) {
    var ranks = data.ranks || [];
    var total = ranks.length;
    var decimals = data.decimals === undefined ? 1 : data.decimals;
    var few = data.colours !== undefined;
    return {
      backgroundColor: "transparent",
      tooltip: { trigger: "axis" },
      grid: grid(dark ? 40 : 36, 8),
      xAxis: { type: "category", data: data.categories,
               axisLabel: { interval: 0, rotate: few ? 0 : 30, fontSize: fontSize } },
      // Bars start at zero: a truncated axis would hide the last district's bar entirely.
      yAxis: Object.assign({ type: "value", min: 0, max: data.max, splitNumber: few ? 3 : 5,
                             axisLabel: Object.assign({ showMinLabel: true }, textStyle()) },
                           unitName(data)),
      series: data.series.map(function (s) {
        return {
          name: s.name,
          type: "bar",
          label: { show: dark || few, position: "top", fontSize: dark ? fontSize - 4 : fontSize,
                   formatter: function (p) {
                     return p.value == null ? "" : p.value.toFixed(decimals);
                   } },
          data: s.data.map(function (value, index) {
            var colour = data.colours ? data.colours[index % data.colours.length]
              : (index === 0 ? RANK_COLOURS.first
                : (index === total - 1 && total > 1 ? RANK_COLOURS.last : RANK_COLOURS.other));
            return { value: value, itemStyle: { color: colour } };
          })
        };
      })
    };
  }

  function shorten(label) {
    return label.length > 12 ? label.slice(0, 11) + "…" : label;
  }

  function heatmapOption(data) {
    return {
      backgroundColor: "transparent",
      tooltip: {
        position: "top",
        // A formatter's return value is HTML: every name in it is escaped (names are typed by
        // users and once carried a script into the leader's browser).
        formatter: function (p) {
          var escape = echarts.format.encodeHTML;
          return escape(data.rows[p.value[1]]) + "<br>" + escape(data.categories[p.value[0]]) +
            "：" + p.value[2].toFixed(1);
        }
      },
      // The bottom holds the colour scale; the names fit themselves in (containLabel).
      grid: grid(16, dark ? 80 : 64),
      xAxis: { type: "category", data: data.categories, splitArea: { show: true },
               axisLabel: { interval: 0, rotate: 50, fontSize: dark ? 15 : 12,
                            formatter: shorten } },
      yAxis: { type: "category", data: data.rows, inverse: true, splitArea: { show: true },
               axisLabel: textStyle() },
      visualMap: { min: data.min, max: data.max, calculable: true, orient: "horizontal",
                   left: "center", bottom: 0, precision: 1,
                   inRange: { color: ["#c62828", "#f9e79f", "#2e7d32"] },
                   textStyle: { color: dark ? "#e6f0ff" : "#333" } },
      series: [{ type: "heatmap", data: data.data,
                 label: { show: true, fontSize: fontSize - 2,
                          formatter: function (p) { return p.value[2].toFixed(0); } } }]
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
    var chart = echarts.init(element, dark ? "dark" : null);
    var option = data.type === "heatmap" ? heatmapOption(data)
      : (data.type === "bar" ? barOption(data) : lineOption(data));
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chart]").forEach(draw);
  });
})();
