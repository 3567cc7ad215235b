/* fangkong zones map (Leaflet, no tile server): the communities from
   /api/areas/map.geojson coloured by the most severe active zone over them, and
   - on the zones list, every active zone as a pin from /api/areas/zones.geojson with its
     day counter and a star when a downgrade proposal waits for command;
   - on the zone form ("pick" mode), a click on a community ticks or unticks it in the
     checklist of members (input[name=member_jurisdictions]), and the checklist's ticks
     show on the map.
   Names are data: labels and tooltips are built with fangkong.el (text nodes). */
(function () {
  "use strict";

  var COLOURS = { sealed: "#dc2626", controlled: "#f97316", precaution: "#2563eb", none: "#9ca3af" };

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/geo+json, application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      });
  }

  function checkbox(id) {
    return document.querySelector('input[name="member_jurisdictions"][value="' + String(id) + '"]');
  }

  function init(container) {
    var configEl = document.getElementById(container.getAttribute("data-zone-map"));
    if (!configEl || !window.L || container.getAttribute("data-initialised")) { return; }
    container.setAttribute("data-initialised", "1");
    var config = JSON.parse(configEl.textContent);
    var labels = config.labels || {};
    var pick = !!config.pick;
    var status = container.parentNode.querySelector("[data-map-status]");
    function say(text) { if (status) { status.textContent = text || ""; } }

    var map = L.map(container, { attributionControl: false, zoomSnap: 0.25, minZoom: 6, maxZoom: 17 })
      .setView([30.63, 120.56], 10);
    var byId = {};

    function style(feature) {
      var p = feature.properties || {};
      var level = p.zone_level || "none";
      var box = pick ? checkbox(p.id) : null;
      var picked = box && box.checked;
      return {
        color: picked ? "#111827" : "#ffffff",
        weight: picked ? 3 : 1,
        fillColor: picked ? "#7c3aed" : (COLOURS[level] || COLOURS.none),
        fillOpacity: picked ? 0.75 : (level === "none" ? 0.35 : 0.6)
      };
    }

    function restyle() {
      Object.keys(byId).forEach(function (id) { byId[id].setStyle(style(byId[id].feature)); });
      if (pick) {
        var n = document.querySelectorAll('input[name="member_jurisdictions"]:checked').length;
        container.setAttribute("data-picked", String(n));
      }
    }

    var outline = getJSON(config.outline_url + "?level=community").then(function (data) {
      var layer = L.geoJSON(data, {
        style: style,
        onEachFeature: function (feature, path) {
          var p = feature.properties || {};
          byId[p.id] = path;
          path.bindTooltip(fangkong.el("span", "", [p.name + " · " + (labels[p.zone_level || "none"] || "")]), { sticky: true });
          if (pick) {
            path.on("click", function () {
              var box = checkbox(p.id);
              if (!box) { say((p.name || "") + "：" + (labels.outside || "")); return; }
              box.checked = !box.checked;
              box.dispatchEvent(new Event("change", { bubbles: true }));
              say(p.name + (box.checked ? (labels.added || "") : (labels.removed || "")));
            });
          }
        }
      }).addTo(map);
      container.setAttribute("data-features", String(layer.getLayers().length));
      if (layer.getLayers().length) { map.fitBounds(layer.getBounds(), { padding: [8, 8] }); }
      restyle();
    });

    if (pick) {
      document.addEventListener("change", function (event) {
        if (event.target && event.target.name === "member_jurisdictions") { restyle(); }
      });
      outline.catch(function () { say(labels.failed || ""); });
      return;
    }

    Promise.all([outline, getJSON(config.markers_url)]).then(function (results) {
      var zones = results[1].features || [];
      zones.forEach(function (feature) {
        var p = feature.properties;
        var c = feature.geometry.coordinates;
        // A precaution zone needs no days of its own (v9: 0): its counter alone.
        var days = p.required_days ? p.no_case_days + "/" + p.required_days : String(p.no_case_days);
        var text = p.name + " · " + (labels.days || "") + " " + days + (labels.unit || "");
        var pin = fangkong.el("a", "zone-pin zone-pin-" + p.level + (p.proposed_on ? " zone-pin-proposal" : ""), [
          p.proposed_on ? "★ " : "",
          days + (labels.unit || "")
        ]);
        pin.setAttribute("href", p.url);
        pin.setAttribute("data-zone", String(p.id));
        var marker = L.marker([c[1], c[0]], {
          icon: L.divIcon({ className: "zone-pin-wrap", html: pin, iconSize: null }),
          title: text,
          riseOnHover: true
        }).addTo(map);
        marker.bindTooltip(fangkong.el("span", "", [text, p.proposed_on ? " · " + (labels.proposal || "") : ""]), { direction: "top" });
        marker.on("click", function () { window.location.href = p.url; });
      });
      container.setAttribute("data-zones", String(zones.length));
      say(zones.length ? "" : (labels.empty || ""));
    }).catch(function () { say(labels.failed || ""); });
  }

  /* The member checklist: a search box that filters the options (and opens the groups
     holding a match), "only ticked", and the count of ticked members. Works again on
     the checklist htmx swaps in when the owner changes (delegated events). */
  function pickerCount() {
    var count = document.querySelector("[data-picked-count]");
    if (!count) { return; }
    var n = document.querySelectorAll('input[name="member_jurisdictions"]:checked, input[name="member_places"]:checked').length;
    count.textContent = (count.getAttribute("data-template") || count.textContent).replace(/\d+/, String(n));
  }

  function pickerFilter() {
    var box = document.querySelector("[data-member-filter]");
    var only = document.querySelector("[data-member-only-picked]");
    var term = box ? box.value.trim().toLowerCase() : "";
    var onlyPicked = only && only.getAttribute("aria-pressed") === "true";
    document.querySelectorAll("[data-member-picker] .member-option").forEach(function (option) {
      var text = (option.getAttribute("data-text") || option.textContent).toLowerCase();
      var input = option.querySelector("input");
      var show = (!term || text.indexOf(term) >= 0) && (!onlyPicked || (input && input.checked));
      option.hidden = !show;
    });
    document.querySelectorAll("[data-member-picker] [data-group]").forEach(function (group) {
      var visible = group.querySelectorAll(".member-option:not([hidden])").length;
      group.hidden = visible === 0;
      if (term || onlyPicked) { group.open = visible > 0; }
    });
  }

  document.addEventListener("input", function (event) {
    if (event.target && event.target.hasAttribute && event.target.hasAttribute("data-member-filter")) { pickerFilter(); }
  });
  document.addEventListener("click", function (event) {
    var button = event.target && event.target.closest ? event.target.closest("[data-member-only-picked]") : null;
    if (!button) { return; }
    button.setAttribute("aria-pressed", button.getAttribute("aria-pressed") === "true" ? "false" : "true");
    pickerFilter();
  });
  document.addEventListener("change", function (event) {
    var name = event.target && event.target.name;
    if (name === "member_jurisdictions" || name === "member_places") {
      pickerCount();
      var option = event.target.closest(".member-option");
      if (option) { option.classList.toggle("member-picked", event.target.checked); }
      var group = event.target.closest("[data-group]");
      if (group && event.target.checked) { group.open = true; }
    }
  });

  function scan() { document.querySelectorAll("[data-zone-map]").forEach(init); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", scan); } else { scan(); }
})();
