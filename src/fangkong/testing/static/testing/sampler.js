/* The sampler page (采样登记), offline-first.
 *
 * Every registration is written to IndexedDB first (one record per tube, each sample
 * with a client-generated UUID) and synced to POST /api/testing/sampling/sync in
 * batches whenever the network is there: after each registration, on the browser's
 * "online" event and on a retry timer. The server is idempotent (a sample's UUID is
 * UNIQUE), so a batch whose answer was lost is simply sent again. The page shows how
 * many samples wait on this phone and how many the server has acknowledged.
 * Plain JavaScript, no dependencies; the service worker caches this file and the page.
 */
(function () {
  "use strict";

  const root = document.getElementById("sampler");
  if (!root) return;
  const ctx = JSON.parse(document.getElementById("sampler-context").textContent);
  const T = JSON.parse(document.getElementById("sampler-text").textContent);
  // The CSRF token: scripts cannot read the cookie (it is HttpOnly), and a page served
  // from the service worker's cache may be older than the session's token, so the sync
  // asks the server for the current one (GET data-csrf-url), once and again after a 403.
  let token = null;
  async function csrfToken(fresh) {
    if (token && !fresh) return token;
    const response = await fetch(root.dataset.csrfUrl, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Accept": "application/json" },
    });
    if (!response.ok) throw new Error("HTTP " + response.status);
    token = (await response.json()).token;
    return token;
  }
  const el = (id) => root.querySelector('[data-testid="' + id + '"]');

  const RETRY_MS = 15000;
  const MAX_TUBES_PER_BATCH = 50;
  const MAX_SAMPLES_PER_BATCH = 1000;
  const DB_NAME = "fangkong-sampler-" + ctx.user + "-" + ctx.point.id;
  const CURRENT_KEY = DB_NAME + "-current";

  // --- IndexedDB: one store of tubes, keyed by barcode -------------------------------

  let dbPromise = null;
  function db() {
    if (!dbPromise) {
      // Named where the logout check finds it without indexedDB.databases() (older
      // browsers): web/static/web/shell.js.
      localStorage.setItem("fangkong-sampler-db:" + DB_NAME, "1");
      dbPromise = new Promise((resolve, reject) => {
        const req = indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = () => req.result.createObjectStore("tubes", { keyPath: "barcode" });
        req.onsuccess = () => {
          // Let the logout delete this database (web/static/web/shell.js).
          req.result.onversionchange = () => req.result.close();
          resolve(req.result);
        };
        req.onerror = () => reject(req.error);
      });
    }
    return dbPromise;
  }

  function store(mode, work) {
    return db().then((conn) => new Promise((resolve, reject) => {
      const tx = conn.transaction("tubes", mode);
      const result = work(tx.objectStore("tubes"));
      tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    }));
  }

  const allTubes = () => store("readonly", (s) => s.getAll());
  const getTube = (barcode) => store("readonly", (s) => s.get(barcode));
  const putTubes = (tubes) => store("readwrite", (s) => { tubes.forEach((t) => s.put(t)); });

  // --- identity checks (the people app's rules, so typos are caught on the spot) ------

  const RIC_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const RIC_CHECK = "10X98765432";
  function normalizeRic(value) {
    return (value || "").replace(/\s+/g, "").toUpperCase();
  }
  function ricValid(number) {
    if (!/^\d{17}[\dX]$/.test(number)) return false;
    let sum = 0;
    for (let i = 0; i < 17; i++) sum += Number(number[i]) * RIC_WEIGHTS[i];
    return RIC_CHECK[sum % 11] === number[17];
  }
  function maskId(number) {
    return number.length > 10 ? number.slice(0, 6) + "********" + number.slice(-4) : "****";
  }
  function uuid4() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // --- the form ------------------------------------------------------------------------

  const roundSelect = el("round-select");
  const poolSelect = el("pool-size-select");
  const errorBox = el("person-error");

  function fillPoolSizes() {
    const round = ctx.rounds.find((r) => String(r.id) === roundSelect.value);
    poolSelect.innerHTML = "";
    if (!round) return;
    round.pool_sizes.forEach((size) => {
      const option = document.createElement("option");
      option.value = String(size);
      option.textContent = size === 1 ? T.single : T.pooled.replace("{size}", String(size));
      if (size === round.default_pool_size) option.selected = true;
      poolSelect.appendChild(option);
    });
  }
  roundSelect.addEventListener("change", fillPoolSizes);
  fillPoolSizes();

  el("walk-in-toggle").addEventListener("change", (event) => {
    el("walk-in-fields").hidden = !event.target.checked;
  });

  // Handlers read a tube, change it and write it back: run them one at a time, so a
  // quick "close" after "register" never loses the registration.
  let queue = Promise.resolve();
  function serial(work) {
    queue = queue.then(work, work).catch(() => {});
    return queue;
  }

  function showError(message) {
    errorBox.textContent = message || "";
  }

  function currentBarcode() {
    return localStorage.getItem(CURRENT_KEY) || "";
  }
  function setCurrent(barcode) {
    if (barcode) localStorage.setItem(CURRENT_KEY, barcode);
    else localStorage.removeItem(CURRENT_KEY);
  }

  el("tube-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = el("tube-barcode");
    const barcode = input.value.trim().toUpperCase();
    input.value = "";
    if (barcode) serial(() => openTube(barcode));
  });

  // The tube as the server holds it (another phone may have filled part of it), or
  // null when the server does not know it; undefined when it cannot be asked (offline):
  // then the page says its count is only this phone's.
  async function serverTube(barcode) {
    if (!navigator.onLine) return undefined;
    try {
      const url = ctx.tube_url.replace("BARCODE", encodeURIComponent(barcode)) + "?point=" + ctx.point.id;
      const response = await fetch(url, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { "Accept": "application/json" },
      });
      if (!response.ok) return undefined;
      const tube = await response.json();
      return tube.known ? tube : null;
    } catch (networkError) {
      return undefined;
    }
  }

  // How full a tube is: what other phones put in it (as the server last said) and what
  // this phone did, less what the server refused.
  function fillOf(tube) {
    return (tube.server_base || 0) + tube.samples.filter((s) => s.status !== "error").length;
  }

  async function openTube(barcode) {
    showError("");
    if (!ctx.rounds.length) { showError(T.noRound); return; }
    const existing = await getTube(barcode);
    if (existing && existing.closed_at) { showError(T.tubeUsed); return; }
    const server = await serverTube(barcode);
    if (server && server.state !== "open") { showError(T.tubeClosedServer); return; }
    if (existing) {
      if (server) {
        const synced = existing.samples.filter((s) => s.status === "synced").length;
        existing.server_base = Math.max(0, server.samples - synced);
        existing.counted = true;
        await putTubes([existing]);
      }
    } else {
      await putTubes([{
        barcode: barcode,
        // A tube the server holds keeps its round and pool size (another phone chose them).
        round: server ? server.round : Number(roundSelect.value),
        pool_size: server ? server.pool_size : Number(poolSelect.value),
        server_base: server ? server.samples : 0,
        counted: server !== undefined,
        opened_at: new Date().toISOString(),
        closed_at: null,
        close_synced: false,
        status: "",
        code: "",
        message: "",
        samples: [],
        created: Date.now(),
      }]);
    }
    setCurrent(barcode);
    await render();
    el("person-id").focus();
    scheduleSync();
  }

  el("person-form").addEventListener("submit", (event) => {
    event.preventDefault();
    showError("");
    const form = event.target;
    const number = normalizeRic(form.id_number.value);
    if (!ricValid(number)) { showError(T.badId); return; }
    const walkIn = form.walk_in.checked;
    const name = walkIn ? form.name.value.trim() : "";
    const phone = walkIn ? form.phone.value.trim() : "";
    if (walkIn && (!name || !phone)) { showError(T.walkInNeeded); return; }
    form.reset();
    el("walk-in-fields").hidden = true;
    serial(() => addPerson(number, name, phone));
  });

  async function addPerson(number, name, phone) {
    const tube = await getTube(currentBarcode());
    if (!tube || tube.closed_at) { showError(T.noTube); return; }
    if (tube.samples.some((s) => s.id_number === number)) { showError(T.already); return; }
    // The same person in another tube of the round on this phone: registered (a retest
    // is allowed) but the sampler is told, in case the card was scanned twice by mistake.
    const elsewhere = (await allTubes()).find((t) => t.barcode !== tube.barcode &&
      t.round === tube.round && t.samples.some((s) => s.id_number === number));
    tube.samples.push({
      client_uuid: uuid4(),
      id_number: number,
      masked: maskId(number),
      name: name,
      phone: phone,
      sampled_at: new Date().toISOString(),
      status: "pending",
      code: "",
      message: "",
    });
    if (fillOf(tube) >= tube.pool_size) {
      tube.closed_at = new Date().toISOString();
      showError(T.full);
      setCurrent("");
    } else if (elsewhere) {
      showError(T.otherTube.replace("{tube}", elsewhere.barcode));
    }
    await putTubes([tube]);
    await render();
    (tube.closed_at ? el("tube-barcode") : el("person-id")).focus();
    scheduleSync();
  }

  el("tube-close").addEventListener("click", () => serial(() => closeTube()));

  async function closeTube() {
    const tube = await getTube(currentBarcode());
    if (!tube) return;
    tube.closed_at = new Date().toISOString();
    await putTubes([tube]);
    setCurrent("");
    await render();
    el("tube-barcode").focus();
    scheduleSync();
  }

  el("sync-now").addEventListener("click", () => sync());

  // --- camera scanning of tube barcodes (where the browser has BarcodeDetector) --------
  // A scanner gun or an ID-card reader types into the focused field, so typing is the
  // common path; the camera is a fallback on phones without one.

  let scanStream = null;
  function stopScan() {
    if (scanStream) scanStream.getTracks().forEach((track) => track.stop());
    scanStream = null;
    el("scanner").hidden = true;
  }
  async function startScan() {
    const detector = new window.BarcodeDetector();
    const video = el("scanner").querySelector("video");
    scanStream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    video.srcObject = scanStream;
    el("scanner").hidden = false;
    await video.play();
    while (scanStream) {
      const codes = await detector.detect(video).catch(() => []);
      if (codes.length) {
        el("tube-barcode").value = codes[0].rawValue;
        stopScan();
        el("tube-form").requestSubmit();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  // No open round at this point: no tube can be opened (the page says so and what to
  // do); what the phone still holds keeps syncing.
  if ("BarcodeDetector" in window && navigator.mediaDevices && ctx.rounds.length) {
    el("tube-scan").hidden = false;
    el("tube-scan").addEventListener("click", () => { startScan().catch(stopScan); });
    el("scan-cancel").addEventListener("click", stopScan);
  }

  // --- rendering -----------------------------------------------------------------------

  function counts(tubes) {
    const c = { pending: 0, synced: 0, error: 0 };
    tubes.forEach((t) => t.samples.forEach((s) => {
      if (s.status === "pending") c.pending += 1;
      else if (s.status === "error") c.error += 1;
      else c.synced += 1;
    }));
    return c;
  }

  async function render() {
    const tubes = await allTubes();
    const c = counts(tubes);
    el("pending-count").textContent = String(c.pending);
    el("synced-count").textContent = String(c.synced);
    el("error-count").textContent = String(c.error);
    const net = el("network");
    net.dataset.online = navigator.onLine ? "1" : "0";
    net.textContent = navigator.onLine ? T.online : T.offline;
    root.dataset.pending = String(c.pending);
    // The logout refusal (web/shell.js) holds only while something waits to be synced.
    const refusal = document.querySelector("[data-logout-refused]");
    if (refusal && c.pending === 0) refusal.remove();
    root.dataset.synced = String(c.synced);

    const current = tubes.find((t) => t.barcode === currentBarcode() && !t.closed_at);
    el("current-tube").hidden = !current;
    if (current) {
      el("current-barcode").textContent = current.barcode;
      el("current-fill").textContent = String(fillOf(current));
      el("current-pool").textContent = String(current.pool_size);
      el("current-count-note").textContent = current.counted === false ? T.countLocal : "";
      const list = el("tube-members");
      list.innerHTML = "";
      current.samples.forEach((s) => {
        const li = document.createElement("li");
        li.textContent = (s.name ? s.name + " " : "") + s.masked;
        list.appendChild(li);
      });
    }
    const log = el("tube-log");
    log.innerHTML = "";
    tubes.sort((a, b) => b.created - a.created).slice(0, 50).forEach((t) => {
      const tr = document.createElement("tr");
      tr.dataset.barcode = t.barcode;
      const pending = t.samples.filter((s) => s.status === "pending").length;
      const errors = t.samples.filter((s) => s.status === "error");
      const retests = t.samples.filter((s) => s.code === "retest").length;
      const state = t.closed_at ? T.closed : T.open;
      let sync = pending || (t.closed_at && !t.close_synced) || !t.status ? T.pending : T.synced;
      if (t.status === "error") sync = t.message || T.error;
      else if (errors.length) sync += " · " + T.error + " " + errors.length + "：" + errors[0].message;
      if (retests) sync += " · " + T.retest + " " + retests;
      tr.dataset.sync = pending ? "pending" : t.status || "pending";
      [t.barcode, fillOf(t) + " / " + t.pool_size, state + " · " + sync].forEach((text) => {
        const td = document.createElement("td");
        td.textContent = text;
        tr.appendChild(td);
      });
      log.appendChild(tr);
    });
  }

  // --- sync ------------------------------------------------------------------------------

  function needsSync(tube) {
    if (tube.status === "error") return false;
    return !tube.status || (tube.closed_at && !tube.close_synced) ||
      tube.samples.some((s) => s.status === "pending");
  }

  function batchOf(tubes) {
    const batch = [];
    let samples = 0;
    for (const tube of tubes) {
      if (!needsSync(tube)) continue;
      const pending = tube.samples.filter((s) => s.status === "pending");
      if (batch.length >= MAX_TUBES_PER_BATCH || (batch.length && samples + pending.length > MAX_SAMPLES_PER_BATCH)) break;
      samples += pending.length;
      batch.push({ tube: tube, pending: pending });
    }
    return batch;
  }

  let syncing = false;
  let syncAgain = false;
  let syncTimer = null;
  function scheduleSync() {
    if (syncTimer) clearTimeout(syncTimer);
    syncTimer = setTimeout(() => { syncTimer = null; sync(); }, 300);
  }

  async function sync() {
    if (syncing) { syncAgain = true; return; }
    if (!navigator.onLine) { await render(); return; }
    syncing = true;
    try {
      for (let round = 0; round < 100; round++) {
        const tubes = await allTubes();
        const batch = batchOf(tubes);
        if (!batch.length) break;
        const body = {
          point: ctx.point.id,
          tubes: batch.map(({ tube, pending }) => ({
            barcode: tube.barcode,
            round: tube.round,
            pool_size: tube.pool_size,
            opened_at: tube.opened_at,
            closed_at: tube.closed_at,
            samples: pending.map((s) => ({
              client_uuid: s.client_uuid,
              id_number: s.id_number,
              name: s.name,
              phone: s.phone,
              sampled_at: s.sampled_at,
            })),
          })),
        };
        const post = (csrf) => fetch(ctx.sync_url, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
          body: JSON.stringify(body),
        });
        let response;
        try {
          response = await post(await csrfToken(false));
          // The session's token changed (a new login): ask for it and send the batch again
          // (the server is idempotent, so a repeat stores nothing twice).
          if (response.status === 403) response = await post(await csrfToken(true));
        } catch (networkError) {
          break; // offline or the server is unreachable: the retry timer tries again
        }
        if (!response.ok) break; // 401/403 (session), 5xx: keep everything, retry later
        const answer = await response.json();
        const sentClosed = new Set(batch.filter((b) => b.tube.closed_at).map((b) => b.tube.barcode));
        await serial(async () => {
          // Apply the answer to the tubes as they are now (the sampler kept working).
          const fresh = (await Promise.all(batch.map((b) => getTube(b.tube.barcode)))).filter(Boolean);
          const notices = applyAnswer(fresh, answer, sentClosed);
          await putTubes(fresh);
          // Stored but worth a look (a person sampled before in the round): said at once.
          if (notices.length) showError(notices.join("；"));
        });
        await render();
      }
    } finally {
      syncing = false;
      await render();
    }
    if (syncAgain) { syncAgain = false; scheduleSync(); }
  }

  function applyAnswer(tubes, answer, sentClosed) {
    const notices = [];
    const bySample = new Map(answer.samples.map((s) => [s.key, s]));
    const byTube = new Map(answer.tubes.map((t) => [t.key, t]));
    tubes.forEach((tube) => {
      const t = byTube.get(tube.barcode);
      if (t) {
        tube.status = t.status === "error" ? "error" : "ok";
        tube.code = t.code;
        tube.message = t.message;
        if (t.status !== "error") tube.counted = true;
        if (t.status !== "error" && sentClosed.has(tube.barcode)) tube.close_synced = true;
        if (t.status !== "error" && t.state === "closed" && !tube.closed_at) {
          tube.closed_at = new Date().toISOString();
          tube.close_synced = true;
        }
      }
      tube.samples.forEach((s) => {
        const r = bySample.get(s.client_uuid);
        if (!r || s.status !== "pending") return;
        s.status = r.status === "error" ? "error" : "synced";
        s.code = r.code;
        s.message = r.message;
        if (r.status !== "error" && r.code) notices.push(s.masked + " " + r.message);
        // Answered either way (stored, or refused with a reason): the clear ID number and
        // phone leave the phone; the sampler still sees the masked number and the reason.
        // A refused person is registered again by scanning the card again.
        s.id_number = "";
        s.phone = "";
      });
      // The server's count of the tube, less what this phone put in it: the others'.
      if (t && t.status !== "error") {
        const synced = tube.samples.filter((s) => s.status === "synced").length;
        tube.server_base = Math.max(0, t.samples - synced);
      }
    });
    return notices;
  }

  window.addEventListener("online", () => sync());
  window.addEventListener("offline", () => render());
  setInterval(() => sync(), RETRY_MS);

  if ("serviceWorker" in navigator && root.dataset.sw) {
    navigator.serviceWorker.register(root.dataset.sw, { scope: root.dataset.swScope }).catch(() => {});
  }

  render().then(() => sync());
})();
