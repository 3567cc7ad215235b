/* fangkong page shell: the small behaviours pages used to write as inline handlers
   (onclick / onchange / onsubmit), which the Content-Security-Policy forbids.
   Loaded by web/base.html on every page; everything is driven by data attributes:

   - <select data-autosubmit>            submits its form when changed;
   - <form data-confirm="question">      asks before submitting (window.confirm);
   - <button data-print>                 prints the page;
   - the header's menus (<details class="nav-group">): one open at a time, closed by
     Escape or a click elsewhere;
   - <form data-logout data-pending-message="...">  the logout form: refused while a
     sampler phone still holds samples that have not reached the server (the samplers'
     IndexedDB databases "fangkong-sampler-*"), since logging out clears this browser's
     storage (the logout answer sends Clear-Site-Data). */
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("select[data-autosubmit]") && target.form) {
      target.form.requestSubmit ? target.form.requestSubmit() : target.form.submit();
    }
  });

  // The header's menus (<details class="nav-group">): one open at a time; Escape or a
  // click elsewhere closes it (Escape gives the focus back to the menu's name).
  function navGroups() {
    return Array.prototype.slice.call(document.querySelectorAll("details.nav-group"));
  }
  document.addEventListener("toggle", function (event) {
    var opened = event.target;
    if (!opened.matches || !opened.matches("details.nav-group") || !opened.open) { return; }
    navGroups().forEach(function (d) { if (d !== opened) { d.open = false; } });
  }, true);
  document.addEventListener("click", function (event) {
    var inside = event.target.closest && event.target.closest("details.nav-group");
    navGroups().forEach(function (d) { if (d !== inside) { d.open = false; } });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    navGroups().forEach(function (d) {
      if (!d.open) { return; }
      d.open = false;
      if (d.contains(document.activeElement)) { d.querySelector("summary").focus(); }
    });
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print]");
    if (button) { window.print(); }
  });

  // The sampler databases on this browser: those IndexedDB lists, and those the sampler
  // page named in localStorage (for browsers without indexedDB.databases()).
  var REGISTRY = "fangkong-sampler-db:";
  function samplerDatabases() {
    var names = [];
    try {
      Object.keys(localStorage).forEach(function (key) {
        if (key.indexOf(REGISTRY) === 0) { names.push(key.slice(REGISTRY.length)); }
      });
    } catch (e) { /* storage disabled */ }
    if (!window.indexedDB || !indexedDB.databases) { return Promise.resolve(names); }
    return indexedDB.databases().then(function (list) {
      list.forEach(function (d) {
        if (d.name && d.name.indexOf("fangkong-sampler-") === 0 && names.indexOf(d.name) < 0) {
          names.push(d.name);
        }
      });
      return names;
    }).catch(function () { return names; });
  }

  // Samples a sampler phone has registered but not yet synced, over every sampler database.
  function pendingSamples() {
    if (!window.indexedDB) { return Promise.resolve(0); }
    return samplerDatabases().then(function (names) {
      return Promise.all(names.map(countPending)).then(function (counts) {
        return counts.reduce(function (a, b) { return a + b; }, 0);
      });
    }).catch(function () { return 0; });
  }

  function countPending(name) {
    return new Promise(function (resolve) {
      var request = indexedDB.open(name);
      request.onerror = function () { resolve(0); };
      request.onupgradeneeded = function () { request.transaction.abort(); };
      request.onsuccess = function () {
        var db = request.result;
        if (!db.objectStoreNames.contains("tubes")) { db.close(); resolve(0); return; }
        var all = db.transaction("tubes", "readonly").objectStore("tubes").getAll();
        all.onsuccess = function () {
          var n = 0;
          all.result.forEach(function (tube) {
            if (tube.closed_at && !tube.close_synced && tube.status !== "error") { n += 1; }
            (tube.samples || []).forEach(function (s) { if (s.status === "pending") { n += 1; } });
          });
          db.close();
          resolve(n);
        };
        all.onerror = function () { db.close(); resolve(0); };
      };
    });
  }

  // What a sampler phone keeps, deleted before logging out. The logout answer's
  // Clear-Site-Data does the same, but browsers honour it only over HTTPS (or localhost).
  function forgetSamplerData() {
    var databases = window.indexedDB ? samplerDatabases().then(function (names) {
      return Promise.all(names.map(function (name) {
        return new Promise(function (resolve) {
          var request = indexedDB.deleteDatabase(name);
          request.onsuccess = request.onerror = request.onblocked = function () { resolve(); };
        });
      }));
    }) : Promise.resolve();
    try {
      Object.keys(localStorage).forEach(function (key) {
        if (key.indexOf("fangkong-sampler-") === 0) { localStorage.removeItem(key); }
      });
    } catch (e) { /* storage disabled */ }
    var caches_ = window.caches ? caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) { return k.indexOf("fangkong-sampler-") === 0; })
        .map(function (k) { return caches.delete(k); }));
    }) : Promise.resolve();
    return Promise.all([caches_, databases]).catch(function () {});
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-confirm") && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
      return;
    }
    if (form.hasAttribute("data-logout") && !form.hasAttribute("data-checked")) {
      event.preventDefault();
      pendingSamples().then(function (pending) {
        if (pending > 0) {
          var box = document.querySelector("[data-logout-refused]");
          if (!box) {
            box = document.createElement("div");
            box.className = "flash flash-error";
            box.setAttribute("role", "alert");
            box.setAttribute("data-logout-refused", "");
            box.setAttribute("data-testid", "logout-refused");
            var main = document.getElementById("main") || document.body;
            main.insertBefore(box, main.firstChild);
          }
          box.textContent = form.getAttribute("data-pending-message") + " (" + pending + ")";
          box.scrollIntoView({ block: "center" });
          return;
        }
        form.setAttribute("data-checked", "1");
        forgetSamplerData().then(function () { form.submit(); });
      });
    }
  });
})();
