/* fangkong round coverage dashboard (ECharts): progress by town (target / sampled /
   resulted bars) and samples by hour (bars, with the cumulative line). Data comes from
   the page (json_script "coverage-config"), rendered by the coverage selectors; the live
   part of the page is re-fetched by htmx polling and the charts redraw from the new data. */
(function () {
  "use strict";

  var COLOURS = { target: "#9ca3af", sampled: "#2563eb", resulted: "#16a34a", cumulative: "#ea580c" };
  var charts = {};

  function readConfig() {
    var el = document.getElementById("coverage-config");
    return el ? JSON.parse(el.textContent) : null;
  }

  function chartFor(id) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) { return null; }
    if (!charts[id]) { charts[id] = echarts.init(el, null, { renderer: "canvas" }); }
    return charts[id];
  }

  function townOption(config) {
    var labels = config.labels;
    var towns = config.towns;
    function series(key) {
      return {
        name: labels[key], type: "bar", itemStyle: { color: COLOURS[key] },
        data: towns.map(function (t) { return t[key]; })
      };
    }
    return {
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0 },
      grid: { left: 8, right: 16, bottom: 8, top: 36, containLabel: true },
      xAxis: { type: "category", data: towns.map(function (t) { return t.name; }),
               axisLabel: { interval: 0, rotate: towns.length > 6 ? 30 : 0 } },
      yAxis: { type: "value" },
      series: [series("target"), series("sampled"), series("resulted")]
    };
  }

  function hourOption(config) {
    var labels = config.labels;
    var hours = config.hours;
    return {
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 16, bottom: 8, top: 36, containLabel: true },
      xAxis: { type: "category", data: hours.map(function (h) { return h.hour; }) },
      yAxis: [{ type: "value", name: labels.samples }, { type: "value", name: labels.cumulative }],
      series: [
        { name: labels.samples, type: "bar", itemStyle: { color: COLOURS.sampled },
          data: hours.map(function (h) { return h.samples; }) },
        { name: labels.cumulative, type: "line", yAxisIndex: 1, smooth: true,
          itemStyle: { color: COLOURS.cumulative },
          data: hours.map(function (h) { return h.cumulative; }) }
      ]
    };
  }

  function draw() {
    var config = readConfig();
    if (!config) { return; }
    var town = chartFor("coverage-town-chart");
    var hour = chartFor("coverage-hour-chart");
    if (town) { town.setOption(townOption(config), true); }
    if (hour) { hour.setOption(hourOption(config), true); }
    document.documentElement.dataset.coverageCharts = "drawn";
    document.documentElement.dataset.coverageDraws = String(
      Number(document.documentElement.dataset.coverageDraws || 0) + 1
    );
  }

  document.addEventListener("DOMContentLoaded", draw);
  if (document.readyState !== "loading") { draw(); }
  // The polled fragment replaces itself (outerHTML) with fresh figures and chart data.
  document.body.addEventListener("htmx:afterSettle", draw);
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (id) { charts[id].resize(); });
  });
})();
