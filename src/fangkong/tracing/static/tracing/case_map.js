/* fangkong case map: a case's itinerary stops as numbered markers (Leaflet, no tile
   server) drawn over the jurisdictions' outline from /api/areas/map.geojson. Works on a
   full page and in a fragment swapped in by htmx (initialises every [data-case-map] once,
   waiting for Leaflet when the fragment's scripts load asynchronously). */
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

  function escapeHTML(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }

  function when(text) { return String(text || "").replace("T", " ").replace(/\+08:00$/, ""); }

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
          // Leaflet renders a string tooltip as HTML: the name goes in escaped.
          layer.bindTooltip(escapeHTML((feature.properties && feature.properties.name) || ""), { sticky: true });
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
            icon: L.divIcon({ className: "stop-marker", html: escapeHTML(seq), iconSize: [24, 24] }),
            title: String(seq),
            zIndexOffset: 1000 - seq
          });
        },
        onEachFeature: function (feature, layer) {
          var p = feature.properties;
          layer.bindPopup(
            "<strong>" + escapeHTML(p.seq) + ". " + escapeHTML(p.place || p.address) + "</strong><br>" +
            escapeHTML(when(p.start)) + " – " + escapeHTML(when(p.end))
          );
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
        unlocatedList.innerHTML = "<li class=\"muted\">" + escapeHTML(labels.unlocated) + "</li>" +
          unlocated.map(function (p) {
            return "<li>" + escapeHTML(p.seq) + ". " + escapeHTML(p.place || p.address) + " · " +
              escapeHTML(when(p.start)) + " – " + escapeHTML(when(p.end)) + "</li>";
          }).join("");
      }
    }).catch(function () {
      container.setAttribute("data-stops", "0");
      say(labels.failed);
    });
    window.addEventListener("resize", function () { map.invalidateSize(); });
  }

  var attempts = 0;
  function scan() {
    if (!window.L) {
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
