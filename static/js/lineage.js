// Draws the lineage graph (数据血缘) of a data-asset page: every element with data-lineage names
// the json_script element holding {nodes, links, categories}. Nodes are placed in columns by
// category (source → dataset/child → indicator → composite → use), so the graph reads left to
// right like the table beside it.
(function () {
  "use strict";
  var ORDER = ["source", "dataset", "child", "indicator", "composite", "use"];
  var COLOURS = { source: "#8d6e63", dataset: "#5470c6", child: "#5470c6", indicator: "#2e7d32",
                  composite: "#fa8c16", use: "#c62828" };

  function columnOf(node) {
    var index = ORDER.indexOf(node.category);
    // Children of a composite share the datasets' column; the indicator in focus its own.
    if (node.category === "child") { index = ORDER.indexOf("dataset"); }
    return index < 0 ? 0 : index;
  }

  function draw(element) {
    var source = document.getElementById(element.getAttribute("data-lineage"));
    if (!source || typeof echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var columns = {};
    data.nodes.forEach(function (node) {
      var column = columnOf(node);
      columns[column] = (columns[column] || 0) + 1;
    });
    var used = {};
    var nodes = data.nodes.map(function (node) {
      var column = columnOf(node);
      used[column] = (used[column] || 0) + 1;
      return {
        id: node.id, name: node.name, x: column * 220,
        y: (used[column] - (columns[column] + 1) / 2) * 60,
        symbolSize: node.focus ? 26 : 16,
        itemStyle: { color: COLOURS[node.category] || "#5470c6",
                     borderColor: node.focus ? "#000" : "#fff", borderWidth: node.focus ? 2 : 1 },
        label: { show: true, position: "bottom", width: 180, overflow: "truncate" },
        value: data.categories[node.category] || ""
      };
    });
    var chart = echarts.init(element);
    chart.setOption({
      tooltip: { formatter: function (p) { return p.dataType === "node" ? p.value + "：" + p.name : ""; } },
      series: [{
        type: "graph", layout: "none", roam: true, data: nodes,
        links: data.links, edgeSymbol: ["none", "arrow"], edgeSymbolSize: 8,
        lineStyle: { color: "#999", curveness: 0.1 }
      }]
    });
    element.setAttribute("data-drawn", "true");
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-lineage]"), draw);
  });
})();
