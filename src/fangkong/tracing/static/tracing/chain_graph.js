/* fangkong transmission-chain graph (ECharts graph series, force layout).
   Data comes from the page (json_script "chain-config"), built by the chain_graph selector:
   nodes {id, kind: case|close|secondary|other, label, generation, source_unknown, ...} and
   edges {source, target, kind: infection|exposure}. Readable with hundreds of nodes:
   arrows on edges, adjacency focus on hover, draggable nodes, roam (zoom and pan), and
   at large sizes labels only on case nodes. */
(function () {
  "use strict";

  var GENERATION_COLOURS = ["#b91c1c", "#ea580c", "#ca8a04", "#7c3aed", "#0f766e"];
  var CONTACT_COLOURS = { close: "#2563eb", secondary: "#93c5fd", other: "#9ca3af" };
  var CATEGORY_ORDER = ["case", "close", "secondary", "other"];
  var LARGE = 120; // above this many nodes only cases carry labels

  // Names (persons, clusters) are data typed by users: an ECharts tooltip formatter
  // returns HTML, so every value goes in through the shared escape (web/text.js).
  var escapeHTML = window.fangkong.escapeHTML;

  function readJSON(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function generationColour(generation) {
    if (!generation) { return "#6b7280"; }
    return GENERATION_COLOURS[Math.min(generation, GENERATION_COLOURS.length) - 1];
  }

  function buildOption(config) {
    var graph = config.graph;
    var labels = config.labels || {};
    var total = graph.nodes.length;
    var large = total > LARGE;
    var degree = {};
    graph.edges.forEach(function (e) {
      degree[e.source] = (degree[e.source] || 0) + 1;
      degree[e.target] = (degree[e.target] || 0) + 1;
    });
    var categories = CATEGORY_ORDER.map(function (kind) {
      return {
        name: labels[kind] || kind,
        itemStyle: { color: kind === "case" ? GENERATION_COLOURS[0] : CONTACT_COLOURS[kind] }
      };
    });
    var nodes = graph.nodes.map(function (n) {
      var isCase = n.kind === "case";
      var size = isCase ? Math.min(18 + 2 * (degree[n.id] || 0), 44) : (n.kind === "close" ? 9 : 6);
      var node = {
        id: n.id,
        name: n.label,
        category: Math.max(CATEGORY_ORDER.indexOf(n.kind), 0),
        symbolSize: large && !isCase ? size * 0.8 : size,
        value: isCase ? n.generation : null,
        raw: n,
        label: { show: isCase || !large }
      };
      if (isCase) {
        node.itemStyle = {
          color: generationColour(n.generation),
          borderColor: n.source_unknown ? "#111827" : "#ffffff",
          borderWidth: n.source_unknown ? 3 : 1.5,
          borderType: n.source_unknown ? "dashed" : "solid"
        };
        node.symbol = n.source_unknown ? "diamond" : "circle";
      }
      return node;
    });
    var edges = graph.edges.map(function (e) {
      var infection = e.kind === "infection";
      return {
        source: e.source,
        target: e.target,
        kind: e.kind,
        lineStyle: infection
          ? { width: 2.5, color: "#7f1d1d", opacity: 0.9, curveness: 0.08 }
          : { width: 0.8, color: "#94a3b8", opacity: 0.6 },
        symbolSize: infection ? [0, 9] : [0, 4]
      };
    });
    return {
      animation: total <= 300,
      textStyle: { fontFamily: "inherit" },
      tooltip: {
        formatter: function (params) {
          if (params.dataType === "edge") {
            return escapeHTML(params.data.kind === "infection" ? labels.infection : labels.exposure);
          }
          var raw = params.data.raw || {};
          var lines = [params.data.name];
          if (raw.kind === "case") {
            if (raw.generation) { lines.push(raw.generation + " " + (labels.generation || "")); }
            if (raw.source_unknown) { lines.push(labels.source_unknown); }
            if (raw.cluster) { lines.push(raw.cluster); }
          } else {
            lines.push(labels[raw.kind] || raw.kind);
          }
          return lines.map(escapeHTML).join("<br>");
        }
      },
      legend: [{ data: categories.map(function (c) { return c.name; }), top: 0 }],
      series: [{
        type: "graph",
        layout: "force",
        roam: true,
        draggable: true,
        data: nodes,
        links: edges,
        categories: categories,
        edgeSymbol: ["none", "arrow"],
        force: {
          repulsion: large ? 60 : 180,
          gravity: large ? 0.12 : 0.06,
          edgeLength: large ? [12, 50] : [40, 110],
          friction: 0.2,
          layoutAnimation: total <= 300
        },
        label: { position: "right", fontSize: 11, color: "#111827" },
        labelLayout: { hideOverlap: true },
        emphasis: { focus: "adjacency", lineStyle: { width: 3 }, label: { show: true } },
        scaleLimit: { min: 0.2, max: 6 },
        top: 36, bottom: 8, left: 8, right: 8
      }]
    };
  }

  function start() {
    var config = readJSON("chain-config");
    var el = document.getElementById("chain-graph");
    if (!el || !window.echarts || !config || !config.graph) { return; }
    var instance = echarts.init(el, null, { renderer: "canvas" });
    instance.setOption(buildOption(config));
    instance.on("click", function (params) {
      var raw = params.data && params.data.raw;
      if (params.dataType === "node" && raw && raw.kind === "case" && config.case_url) {
        window.location.href = config.case_url.replace("{id}", String(raw.case_id));
      }
    });
    el.setAttribute("data-rendered", "1");
    el.setAttribute("data-nodes", String(config.graph.nodes.length));
    window.fangkongChainGraph = instance;
    window.addEventListener("resize", function () { instance.resize(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
