/* fangkong transmission-chain graph (ECharts graph series, force layout).
   Data comes from the page (json_script "chain-config"), built by the chain_graph selector:
   nodes {id, kind: case|close|secondary|other, label, generation, source_unknown, ...} and
   edges {source, target, kind: infection|exposure}. Readable with hundreds of nodes:
   arrows on edges, adjacency focus on hover, draggable nodes, roam (zoom and pan), and
   at large sizes labels only on case nodes.
   Readable with a whole outbreak: cases are nodes, and each case's contacts are drawn as
   one counted node per class (密接 122); a click on it expands it into its persons, a
   click on one of them folds the group back. A contact is counted with the first case it
   was exposed to; a secondary contact with the case of its close contact. */
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

  // The graph as drawn: every group not expanded becomes one counted node.
  function aggregate(graph, expanded, labels) {
    var byId = {};
    graph.nodes.forEach(function (n) { byId[n.id] = n; });
    var owner = {};
    graph.edges.forEach(function (e) {
      var s = byId[e.source], t = byId[e.target];
      if (s && t && s.kind === "case" && t.kind !== "case" && !owner[e.target]) {
        owner[e.target] = e.source;
      }
    });
    for (var pass = 0; pass < 3; pass++) {
      graph.edges.forEach(function (e) {
        var t = byId[e.target];
        if (t && t.kind !== "case" && !owner[e.target] && owner[e.source]) {
          owner[e.target] = owner[e.source];
        }
      });
    }
    var groupOf = {};
    var groups = {};
    var order = [];
    graph.nodes.forEach(function (n) {
      if (n.kind === "case") { return; }
      var key = "group:" + (owner[n.id] || "none") + ":" + n.kind;
      groupOf[n.id] = key;
      if (!groups[key]) {
        groups[key] = { key: key, kind: n.kind, members: [] };
        order.push(key);
      }
      groups[key].members.push(n.id);
    });
    function visible(id) {
      var g = groupOf[id];
      return g && !expanded[g] ? g : id;
    }
    // Each case followed by its groups: the layout starts on a circle in this order, so a
    // case's groups start beside it (and the drawing is the same at every load).
    var nodes = [];
    var rank = {};
    graph.nodes.forEach(function (n) {
      if (n.kind === "case") { rank["group:" + n.id] = nodes.length; nodes.push(n); }
    });
    function caseRank(key) {
      var r = rank[key.slice(0, key.lastIndexOf(":"))];
      return r === undefined ? nodes.length : r;
    }
    order.sort(function (a, b) { return caseRank(a) - caseRank(b); });
    var caseNodes = nodes;
    nodes = [];
    var placed = 0;
    function placeCasesUpTo(r) {
      while (placed < caseNodes.length && placed <= r) { nodes.push(caseNodes[placed]); placed++; }
    }
    order.forEach(function (key) {
      placeCasesUpTo(caseRank(key));
      var g = groups[key];
      if (expanded[key] || g.members.length === 1) {
        if (g.members.length === 1) { expanded[key] = true; }
        g.members.forEach(function (id) { nodes.push(Object.assign({ group: key }, byId[id])); });
      } else {
        nodes.push({
          id: key, kind: g.kind, aggregate: true, count: g.members.length,
          label: (labels[g.kind] || g.kind) + " " + g.members.length
        });
      }
    });
    placeCasesUpTo(caseNodes.length);
    var seen = {};
    var edges = [];
    graph.edges.forEach(function (e) {
      var s = visible(e.source), t = visible(e.target);
      var k = s + ">" + t;
      if (s === t || seen[k]) { return; }
      seen[k] = true;
      edges.push({ source: s, target: t, kind: e.kind });
    });
    return { nodes: nodes, edges: edges };
  }

  function clamp(value, low, high) { return Math.max(low, Math.min(high, value)); }

  // Force scaled to the canvas and the number of nodes drawn: a handful of counted groups
  // spreads over the canvas (not a cluster in its middle), hundreds of persons pack closer.
  function forceFor(total, width, height) {
    var spacing = Math.sqrt((width * height) / Math.max(total, 1));
    var narrow = width < 600 ? width : Infinity; // a phone: the graph stays inside its width
    return {
      repulsion: clamp(Math.min(spacing * 3.5, narrow * 0.9), 50, 1500),
      gravity: 0.04,
      edgeLength: [
        clamp(Math.min(spacing * 0.4, narrow / 8), 12, 160),
        clamp(Math.min(spacing * 0.7, narrow / 5), 40, 260)
      ],
      friction: 0.2
    };
  }

  function buildOption(config, expanded, width, height) {
    var labels = config.labels || {};
    var graph = aggregate(config.graph, expanded, labels);
    var total = graph.nodes.length;
    var force = forceFor(total, width, height);
    force.initLayout = "circular";
    force.layoutAnimation = total <= 300;
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
      var size = isCase ? Math.min(24 + 2 * (degree[n.id] || 0), 44) : (n.kind === "close" ? 9 : 6);
      if (n.aggregate) { size = Math.min(12 + 5 * Math.log2(n.count + 1), 48); }
      var node = {
        id: n.id,
        name: n.label,
        category: Math.max(CATEGORY_ORDER.indexOf(n.kind), 0),
        symbolSize: large && !isCase && !n.aggregate ? size * 0.8 : size,
        value: isCase ? n.generation : null,
        raw: n,
        label: { show: isCase || n.aggregate || !large }
      };
      if (n.aggregate) {
        node.symbol = "roundRect";
        node.itemStyle = { borderColor: "#1e3a8a", borderWidth: 1 };
      }
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
          } else if (raw.aggregate) {
            lines.push(labels.expand || "");
          } else {
            lines.push(labels[raw.kind] || raw.kind);
            if (raw.group) { lines.push(labels.collapse || ""); }
          }
          return lines.map(escapeHTML).join("<br>");
        }
      },
      series: [{
        type: "graph",
        layout: "force",
        roam: true,
        draggable: true,
        data: nodes,
        links: edges,
        categories: categories,
        edgeSymbol: ["none", "arrow"],
        force: force,
        label: { position: "bottom", distance: 3, fontSize: 11, color: "#111827" },
        // Few nodes, spread out: every label shows (hiding one mid-layout lost a case's
        // number); hundreds: overlapping labels hide.
        labelLayout: { hideOverlap: large },
        emphasis: { focus: "adjacency", lineStyle: { width: 3 }, label: { show: true } },
        scaleLimit: { min: 0.2, max: 6 },
        top: 24, bottom: 24, left: 48, right: 48
      }]
    };
  }

  function start() {
    var config = readJSON("chain-config");
    var el = document.getElementById("chain-graph");
    if (!el || !window.echarts || !config || !config.graph) { return; }
    var instance = echarts.init(el, null, { renderer: "canvas" });
    var expanded = {};
    function draw() {
      var option = buildOption(config, expanded, el.clientWidth || 800, el.clientHeight || 600);
      instance.setOption(option, true);
      el.setAttribute("data-drawn", String(option.series[0].data.length));
    }
    draw();
    instance.on("click", function (params) {
      var raw = params.data && params.data.raw;
      if (params.dataType !== "node" || !raw) { return; }
      if (raw.aggregate) {
        expanded[raw.id] = true;
        draw();
      } else if (raw.group && expanded[raw.group]) {
        expanded[raw.group] = false;
        draw();
      } else if (raw.kind === "case" && config.case_url) {
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
