/* The situation at a glance: the epidemic curve (ECharts) and the zones map with cases
   counted per home community (Leaflet, no tile server). Data from the page (json_script)
   and /api/areas/map.geojson. Needs web/text.js for names as text nodes. No person is
   ever drawn: a community's circle says how many cases live there, nothing more. */
(function () {
  "use strict";

  var ZONE_COLOURS = { sealed: "#dc2626", controlled: "#f97316", precaution: "#2563eb", none: "#9ca3af" };

  function readJSON(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function setupMap(config) {
    var container = document.getElementById("zone-map");
    if (!container || !window.L || !config) { return; }
    var status = document.querySelector("[data-map-status]");
    var labels = config.labels || {};
    var points = config.points || {};
    var map = L.map(container, {
      zoomControl: true, attributionControl: false, zoomSnap: 0.25, minZoom: 6, maxZoom: 16
    }).setView([30.63, 120.56], 10);

    function say(text) { if (status) { status.textContent = text || ""; } }

    function style(feature) {
      var level = (feature.properties && feature.properties.zone_level) || "none";
      return {
        color: "#ffffff", weight: 1, opacity: 1,
        fillColor: ZONE_COLOURS[level] || ZONE_COLOURS.none,
        fillOpacity: level === "none" ? 0.35 : 0.6
      };
    }

    var layers = [];
    var request = 0;

    function casesUnder(path, level) {
      // Town level: the cases of the town's communities; community level: its own.
      if (level === "community") { return points[path] || 0; }
      var n = 0;
      Object.keys(points).forEach(function (key) { if (key.indexOf(path) === 0) { n += points[key]; } });
      return n;
    }

    function load(level) {
      var mine = ++request;
      container.setAttribute("data-level", level);
      container.setAttribute("aria-busy", "true");
      document.querySelectorAll("[data-map-level]").forEach(function (b) {
        b.setAttribute("aria-pressed", b.getAttribute("data-map-level") === level ? "true" : "false");
      });
      fetch(config.url + "?level=" + encodeURIComponent(level), {
        credentials: "same-origin",
        headers: { "Accept": "application/geo+json, application/json" }
      }).then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      }).then(function (data) {
        if (mine !== request) { return; }
        layers.forEach(function (l) { map.removeLayer(l); });
        var cases = L.layerGroup();
        var drawn = 0;
        var layer = L.geoJSON(data, {
          style: style,
          onEachFeature: function (feature, path) {
            var p = feature.properties || {};
            var zone = p.zone_level || "none";
            var n = casesUnder(p.path || "", level);
            var words = (p.name || p.code || "") + " · " + (labels[zone] || zone);
            if (n) { words += " · " + labels.cases + " " + n; }
            path.bindTooltip(fangkong.el("span", "", [words]), { sticky: true, direction: "top" });
            if (n) {
              var centre = p.centroid ? L.latLng(p.centroid[0], p.centroid[1]) : path.getBounds().getCenter();
              var marker = L.circleMarker(centre, {
                radius: Math.min(4 + Math.sqrt(n) * 3, 22),
                color: "#ffffff", weight: 1, fillColor: "#7f1d1d", fillOpacity: 0.85
              });
              marker.bindTooltip(fangkong.el("span", "", [(p.name || "") + " · " + labels.cases + " " + n]));
              cases.addLayer(marker);
              drawn += 1;
            }
          }
        }).addTo(map);
        cases.addTo(map);
        layers = [layer, cases];
        var count = layer.getLayers().length;
        container.setAttribute("data-features", String(count));
        container.setAttribute("data-case-points", String(drawn));
        if (count) { map.fitBounds(layer.getBounds(), { padding: [12, 12] }); say(""); } else { say(labels.empty); }
      }).catch(function () {
        if (mine !== request) { return; }
        container.setAttribute("data-features", "0");
        say(labels.failed);
      }).then(function () { if (mine === request) { container.removeAttribute("aria-busy"); } });
    }

    document.querySelectorAll("[data-map-level]").forEach(function (button) {
      button.addEventListener("click", function () { load(button.getAttribute("data-map-level")); });
    });
    load(config.level || "town");
    window.addEventListener("resize", function () { map.invalidateSize(); });
  }

  function setupCurve(chart) {
    var el = document.getElementById("epi-curve");
    if (!el || !window.echarts || !chart) { return; }
    var instance = echarts.init(el, null, { renderer: "canvas" });
    // No case with an onset date (asymptomatic cases have none): the page says so in a
    // note under the chart, and the chart draws no empty onset series.
    var onsetSeries = { name: chart.series_onset, type: "bar", data: chart.onset, itemStyle: { color: "#b91c1c" }, barMaxWidth: 18 };
    var reportSeries = { name: chart.series_report, type: "line", data: chart.report, itemStyle: { color: "#1d4ed8" }, symbolSize: 5 };
    var hasOnset = chart.onset.some(function (n) { return n > 0; });
    instance.setOption({
      animation: false,
      textStyle: { fontFamily: "inherit" },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0, data: hasOnset ? [chart.series_onset, chart.series_report] : [chart.series_report] },
      grid: { left: 8, right: 12, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: chart.dates.map(function (d) { return d.slice(5); }) },
      yAxis: { type: "value", minInterval: 1 },
      series: hasOnset ? [onsetSeries, reportSeries] : [reportSeries]
    });
    el.setAttribute("data-ready", "1");
    window.addEventListener("resize", function () { instance.resize(); });
  }

  function start() {
    setupCurve(readJSON("curve-data"));
    setupMap(readJSON("map-config"));
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
