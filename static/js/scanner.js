// Check-in scanner page (templates/registration/scanner.html): camera, photo or typed codes → POST to the check-in
// API; an offline queue resent with the same nonce; search by hand; undo. All texts come from data- attributes of
// #scanner (translated by the template) or from the server's answers (already translated).
(function () {
  "use strict";
  var root = document.getElementById("scanner");
  if (!root) { return; }
  var ds = root.dataset;
  var eventId = parseInt(ds.eventId, 10);
  var KEY = "saihui.scanner." + eventId + ".";
  var DEDUPE_MS = 3000;
  var RETRY_MS = 15000;

  var $ = function (id) { return document.getElementById(id); };
  var sessionSelect = $("scanner-session");
  var resultBox = $("scan-result");
  var resultTitle = $("scan-result-title");
  var resultName = $("scan-result-name");
  var resultDetail = $("scan-result-detail");
  var queueLabel = $("scan-queue");

  function fmt(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (_, name) {
      return values[name] == null ? "" : String(values[name]);
    });
  }

  function store(name, value) {
    try { localStorage.setItem(KEY + name, JSON.stringify(value)); } catch (e) { /* private mode, full */ }
  }

  function load(name, fallback) {
    try {
      var raw = localStorage.getItem(KEY + name);
      return raw == null ? fallback : JSON.parse(raw);
    } catch (e) { return fallback; }
  }

  function newNonce() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  function sessionId() {
    var value = sessionSelect.value;
    return value ? parseInt(value, 10) : null;
  }

  // ------------------------------------------------------------------ session choice, remembered

  (function () {
    var saved = load("session", "");
    if (saved !== "" && sessionSelect.querySelector('option[value="' + String(saved).replace(/[^0-9]/g, "") + '"]')) {
      sessionSelect.value = String(saved);
    }
    sessionSelect.addEventListener("change", function () { store("session", sessionSelect.value); });
  })();

  // ------------------------------------------------------------------ feedback: panel, sound, vibration

  var audio = null;
  var tapped = false;  // Chrome refuses (and logs) navigator.vibrate until the page has been tapped
  document.addEventListener("pointerdown", function () { tapped = true; }, { once: true });
  function unlockAudio() {
    if (audio || !(window.AudioContext || window.webkitAudioContext)) { return; }
    try { audio = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { audio = null; }
  }
  document.addEventListener("pointerdown", unlockAudio, { once: true });
  document.addEventListener("keydown", unlockAudio, { once: true });

  function beep(frequency, ms, times) {
    if (!audio || audio.state !== "running") { return; }
    for (var i = 0; i < (times || 1); i++) {
      var start = audio.currentTime + i * (ms + 60) / 1000;
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.frequency.value = frequency;
      gain.gain.value = 0.15;
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start(start);
      osc.stop(start + ms / 1000);
    }
  }

  function signal(kind) {
    var vibrate = { ok: [80], already: [60, 60, 60], error: [300], queued: [40] }[kind];
    try { if (tapped && navigator.vibrate && vibrate) { navigator.vibrate(vibrate); } } catch (e) { /* not allowed */ }
    if (kind === "ok") { beep(880, 120); }
    else if (kind === "already") { beep(660, 90, 2); }
    else if (kind === "error") { beep(220, 350); }
    else if (kind === "queued") { beep(520, 80); }
  }

  function show(kind, title, name, detail) {
    resultBox.className = "scan-result scan-result-" + kind;
    resultTitle.textContent = title || "";
    resultName.textContent = name || "";
    resultDetail.textContent = detail || "";
    signal(kind);
  }

  var timeFormat = null;
  function localTime(iso) {
    if (!iso) { return ""; }
    var date = new Date(iso);
    if (isNaN(date.getTime())) { return iso; }
    try {
      timeFormat = timeFormat || new Intl.DateTimeFormat(document.documentElement.lang || undefined,
        { timeZone: ds.timezone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
      return timeFormat.format(date);
    } catch (e) {
      return date.toTimeString().slice(0, 5);
    }
  }

  function personLine(registration) {
    if (!registration) { return ""; }
    return registration.unit ? registration.name + " · " + registration.unit : registration.name;
  }

  function showAnswer(status, body, later) {
    var suffix = later ? " (" + ds.msgQueued + ")" : "";
    if (status === 201 && body && body.result === "registered") {
      show("ok", ds.msgRegistered, personLine(body.registration), body.session ? body.session.title : "");
    } else if (status === 200 && body && body.result === "ok") {
      show("ok", ds.msgOk, personLine(body.registration), body.session ? body.session.title : "");
    } else if (status === 200 && body && body.result === "already_checked_in") {
      var when = localTime(body.checked_in_at);
      var text = body.checked_in_by ? fmt(ds.msgAlready, { time: when, who: body.checked_in_by })
        : fmt(ds.msgAlreadyNobody, { time: when });
      show("already", text, personLine(body.registration), body.session ? body.session.title : "");
    } else {
      var error = (body && body.error) || {};
      show("error", ds.msgFailed + suffix, personLine(error.registration),
        error.message || fmt(ds.msgError, { status: status }));
    }
  }

  // ------------------------------------------------------------------ talking to the server

  function post(url, payload) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": ds.csrf },
      body: JSON.stringify(payload)
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        return { status: response.status, body: body };
      });
    });
  }

  function retryable(status) { return status === 502 || status === 503 || status === 504; }

  // ------------------------------------------------------------------ tickets and the saved roster

  var B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  // A ticket token: "T" + base32 of key id (1) | event id (4) | registration id (4) | mac (8). Null if not one.
  function parseToken(text) {
    var code = String(text || "").trim().toUpperCase();
    if (code.indexOf("HTTP") === 0 && code.indexOf("/T") >= 0) { code = code.slice(code.lastIndexOf("/") + 1); }
    if (code.length !== 29 || code.charAt(0) !== "T") { return null; }
    var bits = 0, value = 0, bytes = [];
    for (var i = 1; i < code.length; i++) {
      var index = B32.indexOf(code.charAt(i));
      if (index < 0) { return null; }
      value = (value << 5) | index;
      bits += 5;
      if (bits >= 8) {
        bits -= 8;
        bytes.push((value >>> bits) & 0xff);
      }
    }
    if (bytes.length < 17) { return null; }
    var u32 = function (at) { return ((bytes[at] << 24) >>> 0) + (bytes[at + 1] << 16) + (bytes[at + 2] << 8) + bytes[at + 3]; };
    return { eventId: u32(1), registrationId: u32(5) };
  }

  var roster = load("roster", null);
  function refreshRoster() {
    return fetch(ds.urlRoster, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (body && body.registrations) {
          roster = { generated_at: body.generated_at, registrations: body.registrations };
          store("roster", roster);
        }
      })
      .catch(function () { /* offline: keep the saved one */ });
  }

  function rosterEntry(registrationId) {
    if (!roster || !roster.registrations) { return null; }
    for (var i = 0; i < roster.registrations.length; i++) {
      var entry = roster.registrations[i];
      if (entry.token_id === registrationId || entry.id === registrationId) { return entry; }
    }
    return null;
  }

  // ------------------------------------------------------------------ the offline queue

  var queue = load("queue", []);
  var flushing = false;

  function saveQueue() {
    store("queue", queue);
    queueLabel.hidden = queue.length === 0;
    queueLabel.textContent = fmt(ds.msgQueue, { n: queue.length });
  }

  function enqueue(payload) {
    queue.push(payload);
    saveQueue();
    var registrationId = payload.registration_id || (parseToken(payload.token) || {}).registrationId;
    var entry = registrationId ? rosterEntry(registrationId) : null;
    show("queued", ds.msgQueued, entry ? personLine(entry) : ds.msgUnknownPerson, ds.msgQueuedDetail);
  }

  function flushQueue() {
    if (flushing || queue.length === 0) { return Promise.resolve(); }
    flushing = true;
    var next = function () {
      if (queue.length === 0) { return Promise.resolve(); }
      var payload = queue[0];
      return post(ds.urlCheckin, payload).then(function (answer) {
        if (retryable(answer.status)) { return; }  // the server is not back yet: keep it, try later
        queue.shift();
        saveQueue();
        if (!(answer.status === 200 && answer.body && answer.body.result)) { showAnswer(answer.status, answer.body, true); }
        return next();
      });
    };
    return next().catch(function () { /* still offline */ }).then(function () { flushing = false; });
  }

  // ------------------------------------------------------------------ one scan

  var last = { code: null, at: 0 };

  function submit(payload) {
    if (queue.length > 0 && navigator.onLine === false) { enqueue(payload); return Promise.resolve(); }
    return post(ds.urlCheckin, payload).then(function (answer) {
      if (retryable(answer.status)) { enqueue(payload); return; }
      showAnswer(answer.status, answer.body, false);
      if (answer.status === 200) { refreshRosterSoon(); }
      flushQueue();
    }, function () {
      enqueue(payload);  // network error: keep it with its nonce and scan time, send it again later
    });
  }

  function scanned(text, fromCamera) {
    var code = String(text || "").trim();
    if (!code) { return; }
    var now = Date.now();
    if (fromCamera && code === last.code && now - last.at < DEDUPE_MS) { last.at = now; return; }
    last = { code: code, at: now };
    var claims = parseToken(code);
    if (claims && claims.eventId !== eventId) {
      show("error", ds.msgFailed, "", ds.msgWrongEventOffline);
      return;
    }
    if (!claims && navigator.onLine === false) {
      show("error", ds.msgFailed, "", ds.msgNotTicket);
      return;
    }
    submit({ token: code, session_id: sessionId(), nonce: newNonce(), scanned_at: new Date().toISOString() });
  }

  var rosterTimer = null;
  function refreshRosterSoon() {
    clearTimeout(rosterTimer);
    rosterTimer = setTimeout(refreshRoster, 5000);
  }

  // ------------------------------------------------------------------ QR decoding (vendored jsQR)

  // Camera frames: normal codes only (fast, every 150 ms); photos: also light-on-dark codes.
  function decodeCanvas(canvas, inversion) {
    if (!window.jsQR) { return null; }
    var image = canvas.getContext("2d", { willReadFrequently: true }).getImageData(0, 0, canvas.width, canvas.height);
    var found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: inversion || "attemptBoth" });
    return found && found.data ? found.data : null;
  }

  function drawScaled(canvas, image, width, height, max) {
    var scale = Math.min(1, max / Math.max(width, height));
    canvas.width = Math.max(1, Math.round(width * scale));
    canvas.height = Math.max(1, Math.round(height * scale));
    canvas.getContext("2d", { willReadFrequently: true }).drawImage(image, 0, 0, canvas.width, canvas.height);
  }

  // ------------------------------------------------------------------ live camera (secure contexts only)

  var video = $("scan-video");
  var toggle = $("scan-camera-toggle");
  var frameCanvas = document.createElement("canvas");
  var stream = null;
  var timer = null;

  function stopCamera() {
    clearTimeout(timer);
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
    stream = null;
    video.srcObject = null;
    toggle.textContent = toggle.dataset.labelStart;
  }

  function tick() {
    if (!stream) { return; }
    if (video.readyState >= 2 && video.videoWidth > 0) {
      drawScaled(frameCanvas, video, video.videoWidth, video.videoHeight, 640);
      var text = decodeCanvas(frameCanvas, "dontInvert");
      if (text) { scanned(text, true); }
    }
    timer = setTimeout(tick, 150);
  }

  function showPhoto(insecure) {
    $("scan-photo").hidden = false;
    $("scan-insecure").hidden = !insecure;
  }

  function startCamera() {
    return navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        var played = video.play();
        if (played && played.catch) { played.catch(function () { /* autoplay refused: frames still arrive */ }); }
        toggle.textContent = toggle.dataset.labelStop;
        tick();
      }, function (error) {
        $("scan-camera").hidden = true;
        showPhoto(false);
        show("idle", fmt(ds.msgCameraError, { error: error && error.name ? error.name : String(error) }), "", "");
      });
  }

  if (window.isSecureContext && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    $("scan-camera").hidden = false;
    toggle.addEventListener("click", function () {
      if (stream) { stopCamera(); } else { startCamera(); }
    });
    document.addEventListener("visibilitychange", function () {
      if (document.hidden && stream) { stopCamera(); }
    });
    startCamera();
  } else {
    showPhoto(true);  // plain HTTP on a LAN address: no live camera, a photo is read the same way
  }

  // ------------------------------------------------------------------ photo of the ticket

  var photoInput = $("scan-photo-input");
  photoInput.addEventListener("change", function () {
    var file = photoInput.files && photoInput.files[0];
    if (!file) { return; }
    photoInput.value = "";
    createImageBitmap(file).then(function (bitmap) {
      var canvas = document.createElement("canvas");
      var text = null;
      [1200, 800, 1800].some(function (max) {
        drawScaled(canvas, bitmap, bitmap.width, bitmap.height, max);
        text = decodeCanvas(canvas);
        return !!text;
      });
      if (text) { scanned(text, false); } else { show("error", ds.msgFailed, "", ds.msgPhotoNoCode); }
    }, function () { show("error", ds.msgFailed, "", ds.msgPhotoNoCode); });
  });

  // ------------------------------------------------------------------ typed codes and handheld scanners

  var codeInput = $("scan-code");
  $("scan-typed").addEventListener("submit", function (event) {
    event.preventDefault();
    var code = codeInput.value;
    codeInput.value = "";
    scanned(code, false);
  });
  if (window.matchMedia && window.matchMedia("(pointer: fine)").matches) { codeInput.focus(); }

  // ------------------------------------------------------------------ search and check-in by hand

  var results = $("scan-search-results");
  var searchInput = $("scan-search-q");

  function stateText(entry) {
    var key = String(sessionId() || 0);
    var at = entry.checked_in && entry.checked_in[key];
    return at ? fmt(ds.msgCheckedInState, { time: localTime(at) }) : ds.msgNotCheckedIn;
  }

  function renderResults(entries) {
    results.textContent = "";
    if (!entries.length) {
      var none = document.createElement("li");
      none.className = "list-group-item text-secondary";
      none.textContent = ds.msgNoResults;
      results.appendChild(none);
      return;
    }
    entries.forEach(function (entry) {
      var item = document.createElement("li");
      item.className = "list-group-item d-flex align-items-center gap-2 scan-search-item";
      var text = document.createElement("div");
      text.className = "flex-grow-1 min-w-0";
      var name = document.createElement("div");
      name.className = "fw-semibold text-break";
      name.textContent = entry.name;
      var meta = document.createElement("div");
      meta.className = "small text-secondary text-break";
      meta.textContent = [entry.unit, entry.phone, entry.group].filter(Boolean).join(" · ");
      var state = document.createElement("div");
      var checked = entry.checked_in && entry.checked_in[String(sessionId() || 0)];
      state.className = "small " + (checked ? "text-success" : "text-secondary");
      state.textContent = stateText(entry);
      text.appendChild(name);
      text.appendChild(meta);
      text.appendChild(state);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-lg scan-manual-button " + (checked ? "btn-outline-success" : "btn-success");
      button.textContent = ds.msgCheckIn;
      button.addEventListener("click", function () {
        button.disabled = true;
        submit({ registration_id: entry.id, session_id: sessionId(), nonce: newNonce(),
                 scanned_at: new Date().toISOString() })
          .then(function () { button.disabled = false; runSearch(); });
      });
      item.appendChild(text);
      item.appendChild(button);
      results.appendChild(item);
    });
  }

  function runSearch() {
    var q = searchInput.value.trim();
    if (!q) { results.textContent = ""; return; }
    fetch(ds.urlSearch + "?q=" + encodeURIComponent(q), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (body) { renderResults((body && body.registrations) || []); })
      .catch(function () {
        // offline: search the saved roster
        var needle = q.toLowerCase();
        renderResults(((roster && roster.registrations) || []).filter(function (entry) {
          return [entry.name, entry.unit, entry.contact_name, entry.phone].concat(entry.members || [])
            .some(function (v) { return v && String(v).toLowerCase().indexOf(needle) >= 0; });
        }).slice(0, 20));
      });
  }

  $("scan-search").addEventListener("submit", function (event) {
    event.preventDefault();
    runSearch();
  });

  // ------------------------------------------------------------------ undo

  $("scan-undo").addEventListener("click", function () {
    if (!window.confirm(ds.msgUndoConfirm)) { return; }
    post(ds.urlUndo, { session_id: sessionId() }).then(function (answer) {
      if (answer.status === 200 && answer.body && answer.body.undone) {
        show("undone", fmt(ds.msgUndone, { name: answer.body.undone.registration.name }),
          personLine(answer.body.undone.registration), "");
        refreshRosterSoon();
      } else {
        showAnswer(answer.status, answer.body, false);
      }
    }, function () {
      show("error", ds.msgFailed, "", ds.msgQueuedDetail);
    });
  });

  // ------------------------------------------------------------------ walk-ins (现场报名)

  var walkinForm = $("scan-walkin-form");
  if (walkinForm) {
    var walkinError = $("walkin-error");
    var walkinSubmit = $("walkin-submit");
    var walkinNonce = null;  // kept until the server answers, so a resend after a lost answer signs up once
    var walkinFieldIds = { name: "walkin-name", phone: "walkin-phone", unit: "walkin-unit", email: "walkin-email",
                           group: "walkin-group" };
    var clearWalkinErrors = function () {
      walkinError.hidden = true;
      walkinError.textContent = "";
      Object.keys(walkinFieldIds).forEach(function (name) {
        var input = $(walkinFieldIds[name]);
        if (input) { input.classList.remove("is-invalid"); }
      });
    };
    var walkinFail = function (message, field, registration) {
      walkinError.textContent = message;
      walkinError.hidden = false;
      var input = field && $(walkinFieldIds[field]);
      if (input) { input.classList.add("is-invalid"); input.focus(); }
      if (registration && registration.id) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "btn btn-success btn-sm ms-2";
        button.textContent = ds.msgCheckIn;
        button.addEventListener("click", function () {
          button.disabled = true;
          submit({ registration_id: registration.id, session_id: sessionId(), nonce: newNonce(),
                   scanned_at: new Date().toISOString() });
        });
        walkinError.appendChild(button);
      }
    };
    walkinForm.addEventListener("input", function () { walkinNonce = null; });
    walkinForm.addEventListener("submit", function (event) {
      event.preventDefault();
      clearWalkinErrors();
      if (!navigator.onLine) { walkinFail(ds.msgWalkinOffline); return; }
      walkinNonce = walkinNonce || newNonce();
      var payload = { nonce: walkinNonce, session_id: sessionId() };
      Object.keys(walkinFieldIds).forEach(function (name) {
        var input = $(walkinFieldIds[name]);
        payload[name] = input ? input.value.trim() : "";
      });
      walkinSubmit.disabled = true;
      post(ds.urlWalkin, payload).then(function (answer) {
        walkinSubmit.disabled = false;
        if (answer.status === 201 || answer.status === 200) {
          walkinNonce = null;
          walkinForm.reset();
          showAnswer(answer.status, answer.body, false);
          refreshRosterSoon();
          return;
        }
        var error = (answer.body && answer.body.error) || {};
        walkinFail(error.message || fmt(ds.msgError, { status: answer.status }), error.field,
                   error.status === "approved" ? error.registration : null);
        if (error.code !== "invalid") { walkinNonce = null; }
        showAnswer(answer.status, answer.body, false);
      }, function () {
        walkinSubmit.disabled = false;
        walkinFail(ds.msgWalkinOffline);
      });
    });
  }

  // ------------------------------------------------------------------ start

  saveQueue();
  refreshRoster();
  flushQueue();
  window.addEventListener("online", function () { flushQueue(); refreshRoster(); });
  setInterval(flushQueue, RETRY_MS);
  setInterval(refreshRoster, 5 * 60 * 1000);
})();
