/* fangkong command dashboard: the zone map (Leaflet, no tile server) and the persons chart
   (ECharts). Data comes from the page (json_script) and from /api/areas/map.geojson.
   Needs web/text.js (loaded before it) for names as text nodes. */
(function () {
  "use strict";

  var ZONE_COLOURS = {
    sealed: "#dc2626",
    controlled: "#f97316",
    precaution: "#2563eb",
    none: "#9ca3af"
  };

  function readJSON(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  /* ---- map ------------------------------------------------------------------------ */
  function setupMap(config) {
    var container = document.getElementById("zone-map");
    if (!container || !window.L || !config) { return; }
    var status = document.querySelector("[data-map-status]");
    var labels = config.labels || {};
    // Tongxiang as the initial view; replaced by the bounds of the drawn polygons.
    var map = L.map(container, {
      zoomControl: true,
      attributionControl: false,
      zoomSnap: 0.25,
      minZoom: 6,
      maxZoom: 16
    }).setView([30.63, 120.56], 10);
    var layer = null;
    var request = 0;

    function say(text) { if (status) { status.textContent = text || ""; } }

    function style(feature) {
      var level = (feature.properties && feature.properties.zone_level) || "none";
      return {
        color: "#ffffff",
        weight: 1.2,
        opacity: 1,
        fillColor: ZONE_COLOURS[level] || ZONE_COLOURS.none,
        fillOpacity: level === "none" ? 0.45 : 0.7
      };
    }

    function describe(feature, path) {
      var p = feature.properties || {};
      var level = p.zone_level || "none";
      // Leaflet renders a string tooltip as HTML: jurisdiction names go in as text nodes.
      path.bindTooltip(
        fangkong.el("span", "", [(p.name || p.code || "") + " · " + (labels[level] || level)]),
        { sticky: true, direction: "top" }
      );
      path.on("mouseover", function () { path.setStyle({ weight: 2.5, color: "#111827" }); });
      path.on("mouseout", function () { if (layer) { layer.resetStyle(path); } });
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
        if (layer) { map.removeLayer(layer); }
        layer = L.geoJSON(data, { style: style, onEachFeature: describe }).addTo(map);
        var count = layer.getLayers().length;
        container.setAttribute("data-features", String(count));
        if (count) {
          map.fitBounds(layer.getBounds(), { padding: [12, 12] });
          say("");
        } else {
          say(labels.empty);
        }
      }).catch(function () {
        if (mine !== request) { return; }
        container.setAttribute("data-features", "0");
        say(labels.failed);
      }).then(function () {
        if (mine === request) { container.removeAttribute("aria-busy"); }
      });
    }

    document.querySelectorAll("[data-map-level]").forEach(function (button) {
      button.addEventListener("click", function () { load(button.getAttribute("data-map-level")); });
    });
    window.addEventListener("resize", function () { map.invalidateSize(); });
    load(config.level || "town");
  }

  /* ---- chart ---------------------------------------------------------------------- */
  function setupChart(chart) {
    var el = document.getElementById("persons-chart");
    if (!el || !window.echarts || !chart) { return; }
    var instance = echarts.init(el, null, { renderer: "canvas" });
    var narrow = window.matchMedia && window.matchMedia("(max-width: 480px)").matches;
    instance.setOption({
      animation: false,
      textStyle: { fontFamily: "inherit" },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0, data: [chart.series_persons, chart.series_population] },
      grid: { left: 8, right: 12, top: 32, bottom: 8, containLabel: true },
      xAxis: {
        type: "category",
        data: chart.names,
        axisLabel: { interval: 0, rotate: narrow || chart.names.length > 8 ? 40 : 0 }
      },
      yAxis: { type: "value" },
      series: [
        { name: chart.series_persons, type: "bar", data: chart.persons,
          itemStyle: { color: "#b91c1c" }, barMaxWidth: 28 },
        { name: chart.series_population, type: "bar", data: chart.population,
          itemStyle: { color: "#cbd5e1" }, barMaxWidth: 28 }
      ]
    });
    window.addEventListener("resize", function () { instance.resize(); });
  }

  function start() {
    setupMap(readJSON("map-config"));
    setupChart(readJSON("chart-data"));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
