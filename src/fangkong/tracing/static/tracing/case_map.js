/* fangkong case map: a case's itinerary stops as numbered markers (Leaflet, no tile
   server) drawn over the jurisdictions' outline from /api/areas/map.geojson. Works on a
   full page and in a fragment swapped in by htmx (initialises every [data-case-map] once,
   waiting for Leaflet and web/text.js when the fragment's scripts load asynchronously).
   Names are data: tooltips, markers, popups and the list of unlocated stops are built as
   DOM nodes with fangkong.el (text nodes), never as HTML strings. */
(function () {
  "use strict";
  if (window.fangkongCaseMap) { window.fangkongCaseMap.scan(); return; }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/geo+json, application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      });
  }

  function when(text) { return String(text || "").replace("T", " ").replace(/\+08:00$/, ""); }

  // "3. 某店 · 2022-07-03 08:00 – 2022-07-03 09:00" as nodes; the name in bold in a popup.
  function stopParts(p, el) {
    return [
      fangkong.el("strong", "", [p.seq + ". ", p.place || p.address]),
      el === "li" ? " · " : fangkong.el("br"),
      when(p.start) + " – " + when(p.end)
    ];
  }

  function init(container) {
    if (container.getAttribute("data-initialised")) { return; }
    var configEl = document.getElementById(container.getAttribute("data-case-map"));
    if (!configEl) { return; }
    container.setAttribute("data-initialised", "1");
    var config = JSON.parse(configEl.textContent);
    var labels = config.labels || {};
    var card = container.parentNode;
    var status = card.querySelector("[data-map-status]");
    var unlocatedList = card.querySelector("[data-unlocated]");
    function say(text) { if (status) { status.textContent = text || ""; } }

    var map = L.map(container, { attributionControl: false, zoomSnap: 0.25, minZoom: 6, maxZoom: 18 })
      .setView([30.63, 120.56], 10);
    var outline = null;
    var stops = null;

    getJSON(config.outline_url).then(function (data) {
      outline = L.geoJSON(data, {
        style: { color: "#64748b", weight: 1, fillColor: "#e2e8f0", fillOpacity: 0.5 },
        onEachFeature: function (feature, layer) {
          // Leaflet renders a string tooltip as HTML: the name goes in as a text node.
          layer.bindTooltip(fangkong.el("span", "", [(feature.properties && feature.properties.name) || ""]), { sticky: true });
        }
      }).addTo(map);
      if (outline.getLayers().length && !(stops && stops.getLayers().length)) {
        map.fitBounds(outline.getBounds(), { padding: [8, 8] });
      }
      if (stops) { stops.bringToFront(); }
    }).catch(function () { /* the outline is context only; stops still draw */ });

    getJSON(config.stops_url).then(function (data) {
      stops = L.geoJSON(data, {
        pointToLayer: function (feature, latlng) {
          var seq = feature.properties.seq;
          return L.marker(latlng, {
            icon: L.divIcon({ className: "stop-marker", html: fangkong.el("span", "", [seq]), iconSize: [24, 24] }),
            title: String(seq),
            zIndexOffset: 1000 - seq
          });
        },
        onEachFeature: function (feature, layer) {
          var p = feature.properties;
          layer.bindPopup(fangkong.el("div", "stop-popup", stopParts(p, "div")));
        }
      }).addTo(map);
      var count = stops.getLayers().length;
      container.setAttribute("data-stops", String(count));
      if (count) {
        map.fitBounds(stops.getBounds(), { padding: [24, 24], maxZoom: 15 });
        say("");
      } else {
        say(labels.empty);
      }
      var unlocated = data.unlocated || [];
      if (unlocatedList && unlocated.length) {
        unlocatedList.hidden = false;
        unlocatedList.replaceChildren(fangkong.el("li", "muted", [labels.unlocated]));
        unlocated.forEach(function (p) {
          unlocatedList.appendChild(fangkong.el("li", "", stopParts(p, "li")));
        });
      }
    }).catch(function () {
      container.setAttribute("data-stops", "0");
      say(labels.failed);
    });
    window.addEventListener("resize", function () { map.invalidateSize(); });
  }

  var attempts = 0;
  function scan() {
    if (!window.L || !(window.fangkong && window.fangkong.el)) {
      if (attempts++ < 100) { window.setTimeout(scan, 50); }
      return;
    }
    document.querySelectorAll("[data-case-map]").forEach(init);
  }

  window.fangkongCaseMap = { scan: scan };
  document.addEventListener("htmx:afterSettle", scan);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", scan);
  } else {
    scan();
  }
})();
