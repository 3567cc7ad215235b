/* fangkong text: the one way page scripts put data (names typed by users) into a page.
   Loaded before the page scripts that use it (a classic script, no module, no eval):
   - fangkong.el(tag, className, parts) builds an element whose strings go in as text
     nodes, never as markup: give it to the DOM, or to Leaflet (bindPopup, bindTooltip
     and divIcon take an HTMLElement);
   - fangkong.escapeHTML(text) only where a library takes nothing but an HTML string
     (an ECharts tooltip formatter). */
(function () {
  "use strict";
  var fangkong = window.fangkong = window.fangkong || {};

  fangkong.escapeHTML = function (text) {
    return String(text == null ? "" : text)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  };

  fangkong.el = function (tag, className, parts) {
    var element = document.createElement(tag);
    if (className) { element.className = className; }
    (parts || []).forEach(function (part) {
      if (part == null) { return; }
      element.appendChild(part instanceof Node ? part : document.createTextNode(String(part)));
    });
    return element;
  };
})();
