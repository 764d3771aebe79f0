// Tablet scoring page (templates/judging/tablet.html). The judge's entrants (by code only), the criteria of their
// share and their values come from the sheet API; each change is kept in localStorage at once and queued with a
// nonce, then sent (PUT /api/v1/scores, debounced) — after a reload, a closed tab or a network drop the queue is
// sent again with the same nonces, so every value arrives exactly once. Entry never waits for the network.
// All texts come from data- attributes of #scoring (translated by the template) or from the server's answers.
(function () {
  "use strict";
  var root = document.getElementById("scoring");
  if (!root) { return; }
  var ds = root.dataset;
  var KEY = "saihui.scoring." + ds.judgeId + "." + ds.roundId + ".";
  var DEBOUNCE_MS = 700;
  var RETRY_MS = 5000;
  var REFRESH_MS = 60000;
  var TIMEOUT_MS = 15000;
  var UNIT_PLACES = 4;  // values are handled as whole numbers of 1/10000 (no binary fractions)
  var UNIT = 10000;

  var $ = function (id) { return document.getElementById(id); };
  var listBox = $("entrant-list");
  var panel = $("entrant-panel");
  var syncBox = $("sync-status");
  var syncText = $("sync-text");
  var progressText = $("scoring-progress");
  var alertBox = $("scoring-alert");

  // ------------------------------------------------------------------ storage

  function store(name, value) {
    try { localStorage.setItem(KEY + name, JSON.stringify(value)); } catch (e) { /* private mode, full */ }
  }

  function load(name, fallback) {
    try {
      var raw = localStorage.getItem(KEY + name);
      return raw == null ? fallback : JSON.parse(raw);
    } catch (e) { return fallback; }
  }

  var sheet = load("sheet", null);
  var pending = load("pending", {});  // "entrant:criterion" -> {entrant, criterion, value, note?, nonce, error?, blocked?}
  var submits = load("submits", {});  // entrant id -> {nonce}
  var current = load("current", null);
  var entrantErrors = {};  // entrant id -> message of a refused submission
  var openNotes = {};
  var online = true;
  var inFlight = false;
  var authProblem = null;  // "login" | "reload"
  var fromCache = !!sheet;
  var flushTimer = null;

  function savePending() { store("pending", pending); store("submits", submits); }

  // ------------------------------------------------------------------ small helpers

  function fmt(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (_, name) {
      return values[name] == null ? "" : String(values[name]);
    });
  }

  function newNonce() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === false || value == null) { return; }
      if (name === "text") { node.textContent = value; }
      else if (name === "className") { node.className = value; }
      else if (name.indexOf("data-") === 0 || name.indexOf("aria-") === 0 || name === "type" || name === "id" ||
               name === "title" || name === "rows" || name === "maxlength" || name === "for" || name === "role") {
        node.setAttribute(name, value === true ? "" : value);
      } else { node[name] = value; }
    });
    (children || []).forEach(function (child) {
      if (child == null || child === false) { return; }
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  // "7.5" -> 75000; null for anything that is not a plain non-negative decimal with at most four places
  function toUnits(text) {
    if (text == null) { return null; }
    var match = /^(\d{1,7})(?:\.(\d{0,4}))?$/.exec(String(text).trim());
    if (!match) { return null; }
    var fraction = (match[2] || "") + "0000";
    return parseInt(match[1], 10) * UNIT + parseInt(fraction.slice(0, UNIT_PLACES), 10);
  }

  // 75000 -> "7.5" (no trailing zeros)
  function plain(units) {
    var whole = Math.floor(units / UNIT);
    var fraction = String(units % UNIT + UNIT).slice(1).replace(/0+$/, "");
    return fraction ? whole + "." + fraction : String(whole);
  }

  function roundUnits(units, places) {  // half up to the competition's places
    var quantum = Math.pow(10, UNIT_PLACES - places);
    return Math.floor((units + quantum / 2) / quantum) * quantum;
  }

  function decimals(text) {
    var dot = String(text).indexOf(".");
    return dot < 0 ? 0 : String(text).length - dot - 1;
  }

  // ------------------------------------------------------------------ the sheet, with local changes on top

  function criteriaById() {
    var found = {};
    (sheet ? sheet.criteria : []).forEach(function (c) { found[c.id] = c; });
    return found;
  }

  function entrantById(id) {
    var list = sheet ? sheet.entrants : [];
    for (var i = 0; i < list.length; i++) { if (list[i].id === id) { return list[i]; } }
    return null;
  }

  function slotKey(entrantId, criterionId) { return entrantId + ":" + criterionId; }

  function serverSlot(entrant, criterionId) { return entrant.scores[String(criterionId)] || null; }

  function valueOf(entrant, criterionId) {
    var local = pending[slotKey(entrant.id, criterionId)];
    if (local) { return local.value; }
    var slot = serverSlot(entrant, criterionId);
    return slot ? slot.value : null;
  }

  function noteOf(entrant, criterionId) {
    var local = pending[slotKey(entrant.id, criterionId)];
    if (local && local.note !== undefined) { return local.note; }
    var slot = serverSlot(entrant, criterionId);
    return slot ? slot.note || "" : "";
  }

  function marksUnits(criterion, value) {  // the points a value is worth (ladder: level / 3 x maximum)
    if (value == null) { return null; }
    var units = toUnits(value);
    if (units == null) { return null; }
    if (criterion.ladder) {
      return roundUnits(Math.round(units / UNIT * toUnits(criterion.maximum) / 3), criterion.places);
    }
    return units;
  }

  function entrantFigures(entrant) {
    var criteria = criteriaById();
    var scored = 0;
    var total = 0;
    var maximum = 0;
    entrant.criteria.forEach(function (id) {
      var criterion = criteria[id];
      if (!criterion) { return; }
      maximum += toUnits(criterion.maximum);
      var marks = marksUnits(criterion, valueOf(entrant, id));
      if (marks != null) { scored += 1; total += marks; }
    });
    var state = entrant.state === "submitted" ? "submitted" : submits[entrant.id] ? "submitting" :
      scored === entrant.criteria.length && scored > 0 ? "complete" : scored ? "draft" : "blank";
    return { scored: scored, required: entrant.criteria.length, total: total, maximum: maximum, state: state };
  }

  function isLocked() { return !!(sheet && sheet.round.state === "locked"); }

  function canEdit(entrant, figures) {
    return !isLocked() && entrant.present && figures.state !== "submitted" && figures.state !== "submitting";
  }

  // ------------------------------------------------------------------ drawing

  function renderSync() {
    var count = Object.keys(pending).length + Object.keys(submits).length;
    var kind = "sync-ok";
    var text = ds.msgSynced;
    if (count) {
      kind = online ? (inFlight ? "sync-sending" : "sync-pending") : "sync-offline";
      text = fmt(ds.msgUnsynced, { n: count });
    }
    syncBox.className = "sync-status " + kind;
    syncText.textContent = text;
    syncBox.title = online ? "" : ds.msgOffline;
    if (!online && count) { syncText.textContent = text + " · " + ds.msgOffline; }
  }

  function showAlert(message, link) {
    alertBox.textContent = "";
    if (!message) { alertBox.hidden = true; return; }
    alertBox.appendChild(document.createTextNode(message + " "));
    if (link) { alertBox.appendChild(el("a", { href: link.href, text: link.text, className: "alert-link" })); }
    alertBox.hidden = false;
  }

  function renderList() {
    listBox.textContent = "";
    if (!sheet) { return; }
    var done = 0;
    var batches = {};  // defense batches (答辩批次): a header before each batch's first entrant
    (sheet.batches || []).forEach(function (b) { batches[b.id] = b; });
    var lastBatch = null;
    sheet.entrants.forEach(function (entrant) {
      var figures = entrantFigures(entrant);
      if (figures.state === "submitted") { done += 1; }
      if (!entrant.batch_id && lastBatch && lastBatch !== "none") {  // after the batches: the entrants in none
        lastBatch = "none";
        listBox.appendChild(el("div", { className: "batch-header", text: ds.msgNoBatch }));
      }
      if (entrant.batch_id && entrant.batch_id !== lastBatch && batches[entrant.batch_id]) {
        lastBatch = entrant.batch_id;
        var batch = batches[entrant.batch_id];
        listBox.appendChild(el("div", { className: "batch-header", "data-batch": batch.id }, [
          el("span", { className: "batch-name", text: batch.name }),
          el("span", { className: "batch-when", text: [batchTime(batch.starts_at), batch.room].filter(Boolean).join(" · ") }),
        ]));
      }
      var status = !entrant.present ? ds.msgAbsent :
        figures.state === "submitted" ? "✓ " + ds.msgSubmitted :
        figures.state === "submitting" ? ds.msgSubmitting :
        fmt(ds.msgScored, { scored: figures.scored, required: figures.required });
      var unsent = entrant.criteria.some(function (id) { return pending[slotKey(entrant.id, id)]; }) ||
        !!submits[entrant.id];
      listBox.appendChild(el("button", {
        type: "button", className: "entrant-item state-" + figures.state + (entrant.present ? "" : " is-absent") +
          (entrant.id === current ? " is-current" : ""),
        "data-entrant": entrant.id, "aria-current": entrant.id === current ? "true" : null,
      }, [
        el("span", { className: "entrant-code", text: entrant.code }),
        el("span", { className: "entrant-status", text: status }),
        unsent ? el("span", { className: "unsent-dot", title: ds.msgPending, "aria-label": ds.msgPending }) : null,
      ]));
    });
    progressText.textContent = fmt(ds.msgProgress, { done: done, total: sheet.entrants.length });
  }

  function batchTime(iso) {  // a batch's start in the event's time zone, e.g. 12-12 09:30
    if (!iso) { return ""; }
    try {
      return new Intl.DateTimeFormat(document.documentElement.lang || "zh-CN", {
        timeZone: sheet.event.timezone, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
      }).format(new Date(iso));
    } catch (error) { return iso.slice(0, 16).replace("T", " "); }
  }

  function workLinks(entrant) {  // the entrant's submitted works, opened in a new tab (named by code only)
    var works = entrant.works || [];
    if (!works.length) { return null; }
    return el("div", { className: "work-links" }, works.map(function (work) {
      return el("a", { className: "btn btn-outline-primary work-button", target: "_blank", rel: "noopener",
        href: ds.urlWork.replace("{id}", String(work.id)),
        text: fmt(work.kind === "video" ? ds.msgOpenVideo : ds.msgOpenWork, { label: work.label }) });
    }));
  }

  function criterionMeta(criterion) {
    var parts = [criterion.kind === "measurement" ? ds.msgMeasurement : ds.msgJudgement,
      fmt(ds.msgMax, { max: criterion.maximum })];
    if (!criterion.ladder && !criterion.full_or_zero) { parts.push(fmt(ds.msgStep, { step: criterion.step })); }
    return parts.join(" · ");
  }

  function criterionControls(entrant, criterion, value, editable) {
    if (criterion.ladder) {
      var levels = [0, 1, 2, 3].map(function (level) {
        var marks = marksUnits(criterion, String(level));
        return el("button", {
          type: "button", className: "ladder-level" + (value != null && parseInt(value, 10) === level ? " is-chosen" : ""),
          "data-action": "set", "data-value": String(level), disabled: !editable,
          "aria-pressed": value != null && parseInt(value, 10) === level ? "true" : "false",
        }, [
          el("span", { className: "ladder-number", text: String(level) }),
          el("span", { className: "ladder-text", text: criterion.levels[level] || fmt(ds.msgLevel, { level: level }) }),
          el("span", { className: "ladder-marks", text: fmt(ds.msgPoints, { points: plain(marks) }) }),
        ]);
      });
      return el("div", { className: "ladder" }, levels);
    }
    if (criterion.full_or_zero) {
      return el("div", { className: "full-or-zero" }, [
        el("button", { type: "button", className: "choice-button" + (value != null && toUnits(value) === 0 ? " is-chosen" : ""),
          "data-action": "set", "data-value": "0", disabled: !editable, text: ds.msgZero + " 0" }),
        el("button", { type: "button", className: "choice-button" + (value != null && toUnits(value) === toUnits(criterion.maximum) ? " is-chosen" : ""),
          "data-action": "set", "data-value": criterion.maximum, disabled: !editable,
          text: fmt(ds.msgFull, { max: criterion.maximum }) }),
      ]);
    }
    var units = value == null ? null : toUnits(value);
    return el("div", { className: "stepper" }, [
      el("button", { type: "button", className: "step-button", "data-action": "minus", text: "−",
        "aria-label": "−" + criterion.step, disabled: !editable || units === 0 }),
      el("button", { type: "button", className: "value-button" + (value == null ? " is-blank" : ""),
        "data-action": "numpad", disabled: !editable, text: value == null ? ds.msgBlank : plain(units) }),
      el("button", { type: "button", className: "step-button", "data-action": "plus", text: "+",
        "aria-label": "+" + criterion.step, disabled: !editable || units === toUnits(criterion.maximum) }),
    ]);
  }

  function renderPanel() {
    var focus = document.activeElement;
    var focusNote = focus && focus.classList && focus.classList.contains("note-input") ?
      { criterion: focus.getAttribute("data-criterion"), start: focus.selectionStart, end: focus.selectionEnd } : null;
    panel.textContent = "";
    if (!sheet) { panel.appendChild(el("p", { className: "text-secondary p-3", text: ds.msgLoadFailed })); return; }
    if (!sheet.entrants.length) { panel.appendChild(el("p", { className: "text-secondary p-3", text: ds.msgNoEntrants })); return; }
    var entrant = entrantById(current);
    if (!entrant) { panel.appendChild(el("p", { className: "text-secondary p-3", text: ds.msgChoose })); return; }
    var criteria = criteriaById();
    var figures = entrantFigures(entrant);
    var editable = canEdit(entrant, figures);
    var places = sheet.competition.places;
    var missing = figures.required - figures.scored;

    var submitButton = el("button", {
      type: "button", className: "btn btn-success btn-lg submit-button", "data-action": "summary",
      disabled: !editable || missing > 0, text: fmt(ds.msgSubmit, { code: entrant.code }),
    });
    var head = el("div", { className: "entrant-head" }, [
      el("div", { className: "entrant-head-code" }, [el("span", { className: "entrant-big-code", text: entrant.code })]),
      el("div", { className: "entrant-total" }, [
        el("span", { className: "total-label", text: ds.msgTotal }),
        el("span", { className: "total-value", id: "running-total", text: plain(roundUnits(figures.total, places)) }),
        el("span", { className: "total-max", text: "/ " + plain(figures.maximum) }),
      ]),
      figures.state === "submitted" ? el("span", { className: "badge text-bg-success fs-6", text: "✓ " + ds.msgSubmitted }) :
        figures.state === "submitting" ? el("span", { className: "badge text-bg-warning fs-6", text: ds.msgSubmitting }) :
          submitButton,
    ]);
    panel.appendChild(head);
    var links = workLinks(entrant);
    if (links) { panel.appendChild(links); }
    if (editable && missing > 0) {
      panel.appendChild(el("p", { className: "small text-secondary mb-2 text-end", text: fmt(ds.msgSubmitMissing, { n: missing }) }));
    }
    if (!entrant.present) { panel.appendChild(el("div", { className: "alert alert-secondary", text: ds.msgAbsentDetail })); }
    if (isLocked()) { panel.appendChild(el("div", { className: "alert alert-secondary", text: ds.msgLocked })); }
    if (entrantErrors[entrant.id]) { panel.appendChild(el("div", { className: "alert alert-danger", role: "alert", text: entrantErrors[entrant.id] })); }

    var module = null;
    var editableEntrant = editable;
    entrant.criteria.forEach(function (id) {
      var criterion = criteria[id];
      if (!criterion) { return; }
      if (!module || module !== criterion.module.code) {
        module = criterion.module.code;
        panel.appendChild(el("h2", { className: "module-title", text: criterion.module.code + (criterion.module.name ? " · " + criterion.module.name : "") }));
      }
      var value = valueOf(entrant, id);
      var local = pending[slotKey(entrant.id, id)];
      // chief judge's desk (H2): a criterion given back (unlock / re-score) is open; its siblings stay submitted
      var slot = serverSlot(entrant, id);
      var reopenedBy = (entrant.reopened || []).filter(function (r) { return r.criterion_id === id; })[0];
      var editable = editableEntrant && !(slot && slot.state === "submitted");
      var note = noteOf(entrant, id);
      var noteOpen = openNotes[slotKey(entrant.id, id)] || !!note;
      var footer = el("div", { className: "criterion-foot" }, [
        editable || note ? el("button", { type: "button", className: "btn btn-link btn-sm", "data-action": "note",
          text: ds.msgNote, "aria-expanded": noteOpen ? "true" : "false" }) : null,
        (criterion.ladder || criterion.full_or_zero) && value != null && editable ?
          el("button", { type: "button", className: "btn btn-link btn-sm text-danger", "data-action": "clear", text: ds.msgClear }) : null,
        local && local.error ? el("span", { className: "slot-error", role: "alert", text: local.error }) : null,
        local && local.error ? el("button", { type: "button", className: "btn btn-sm btn-outline-danger", "data-action": "retry", text: ds.msgRetry }) : null,
        local && !local.error ? el("span", { className: "slot-pending", text: ds.msgPending }) : null,
      ]);
      var card = el("div", { className: "criterion" + (value == null ? " is-blank" : "") + (local ? " is-unsent" : ""),
        "data-criterion": id }, [
        el("div", { className: "criterion-head" }, [
          el("span", { className: "criterion-code", text: criterion.code }),
          el("span", { className: "criterion-name", text: criterion.name }),
          el("span", { className: "criterion-meta", text: criterionMeta(criterion) }),
        ]),
        criterion.description ? el("div", { className: "criterion-desc", text: criterion.description }) : null,
        reopenedBy ? el("div", { className: "reopened-banner", role: "note", text: fmt(
          reopenedBy.kind === "rescore" ? ds.msgRescore : ds.msgUnlocked, { reason: reopenedBy.reason }) }) : null,
        criterionControls(entrant, criterion, value, editable),
        footer,
        noteOpen ? el("textarea", { className: "form-control note-input", rows: 2, maxlength: 1000, "data-criterion": id,
          "aria-label": ds.msgNote + " " + criterion.code, value: note, disabled: !editable }) : null,
      ]);
      panel.appendChild(card);
    });
    if (focusNote) {
      var again = panel.querySelector('.note-input[data-criterion="' + focusNote.criterion + '"]');
      if (again) { again.focus(); try { again.setSelectionRange(focusNote.start, focusNote.end); } catch (e) { /* */ } }
    }
  }

  function render() {
    renderList();
    renderPanel();
    renderSync();
    var empty = $("scoring-empty");
    if (empty) { empty.remove(); }
  }

  // ------------------------------------------------------------------ changes

  function setValue(entrant, criterionId, value) {
    var key = slotKey(entrant.id, criterionId);
    var before = pending[key];
    pending[key] = { entrant: entrant.id, criterion: criterionId, value: value, nonce: newNonce() };
    if (before && before.note !== undefined) { pending[key].note = before.note; }
    delete entrantErrors[entrant.id];
    savePending();
    render();
    schedule(DEBOUNCE_MS);
  }

  function setNote(entrant, criterionId, note) {
    var key = slotKey(entrant.id, criterionId);
    var before = pending[key];
    pending[key] = { entrant: entrant.id, criterion: criterionId, value: valueOf(entrant, criterionId), note: note,
      nonce: newNonce() };
    if (before && before.error) { delete pending[key].error; }
    savePending();
    renderList();
    renderSync();
    schedule(DEBOUNCE_MS * 2);
  }

  function step(entrant, criterion, direction) {
    var value = valueOf(entrant, criterion.id);
    var stepUnits = toUnits(criterion.step);
    var maximum = toUnits(criterion.maximum);
    var units = value == null ? (direction > 0 ? stepUnits : 0) : toUnits(value) + direction * stepUnits;
    units = Math.max(0, Math.min(maximum, units));
    setValue(entrant, criterion.id, plain(units));
  }

  panel.addEventListener("click", function (event) {
    var button = event.target.closest("[data-action]");
    if (!button || button.disabled) { return; }
    var entrant = entrantById(current);
    if (!entrant) { return; }
    var card = button.closest("[data-criterion]");
    var criterion = card ? criteriaById()[parseInt(card.getAttribute("data-criterion"), 10)] : null;
    var action = button.getAttribute("data-action");
    if (action === "summary") { openSummary(entrant); return; }
    if (!criterion) { return; }
    var key = slotKey(entrant.id, criterion.id);
    if (action === "set") { setValue(entrant, criterion.id, button.getAttribute("data-value")); }
    else if (action === "clear") { setValue(entrant, criterion.id, null); }
    else if (action === "plus") { step(entrant, criterion, 1); }
    else if (action === "minus") { step(entrant, criterion, -1); }
    else if (action === "numpad") { openNumpad(entrant, criterion); }
    else if (action === "note") {
      openNotes[key] = !openNotes[key];
      renderPanel();
      var input = panel.querySelector('.note-input[data-criterion="' + criterion.id + '"]');
      if (input && openNotes[key]) { input.focus(); }
    } else if (action === "retry" && pending[key]) {
      pending[key].nonce = newNonce();
      delete pending[key].error;
      delete pending[key].blocked;
      savePending();
      render();
      schedule(0);
    }
  });

  panel.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.classList.contains("note-input")) { return; }
    var entrant = entrantById(current);
    if (entrant) { setNote(entrant, parseInt(input.getAttribute("data-criterion"), 10), input.value); }
  });

  listBox.addEventListener("click", function (event) {
    var button = event.target.closest("[data-entrant]");
    if (!button) { return; }
    current = parseInt(button.getAttribute("data-entrant"), 10);
    store("current", current);
    render();
    panel.scrollIntoView({ block: "nearest" });
  });

  // ------------------------------------------------------------------ the number pad

  var numpad = $("numpad");
  var numpadModal = null;
  var numpadTarget = null;
  var numpadText = "";
  var numpadFresh = false;  // the first key replaces the value shown (as on a calculator); ⌫ edits it

  function modal(node) {
    return window.bootstrap ? bootstrap.Modal.getOrCreateInstance(node) : null;
  }

  function numpadCheck(text, criterion) {
    var units = toUnits(text);
    if (text === "" || units == null) { return ds.msgNotNumber; }
    if (units > toUnits(criterion.maximum)) { return fmt(ds.msgTooHigh, { max: criterion.maximum }); }
    if (decimals(text.replace(/\.$/, "")) > criterion.places) { return fmt(ds.msgDecimals, { places: criterion.places }); }
    if (units % toUnits(criterion.step) !== 0) { return fmt(ds.msgOffStep, { step: criterion.step }); }
    return "";
  }

  function drawNumpad() {
    $("numpad-display").textContent = numpadText === "" ? ds.msgBlank : numpadText;
    $("numpad-display").classList.toggle("is-blank", numpadText === "");
    $("numpad-error").textContent = "";
  }

  function openNumpad(entrant, criterion) {
    numpadTarget = { entrant: entrant.id, criterion: criterion.id };
    var value = valueOf(entrant, criterion.id);
    numpadText = value == null ? "" : plain(toUnits(value));
    numpadFresh = true;
    $("numpad-title").textContent = entrant.code + " · " + criterion.code + " " + criterion.name;
    $("numpad-hint").textContent = criterionMeta(criterion);
    drawNumpad();
    numpadModal = modal(numpad);
    if (numpadModal) { numpadModal.show(); }
  }

  $("numpad-keys").addEventListener("click", function (event) {
    var key = event.target.closest("[data-key]");
    if (!key) { return; }
    var value = key.getAttribute("data-key");
    if (numpadFresh && value !== "back") { numpadText = ""; }
    numpadFresh = false;
    if (value === "back") { numpadText = numpadText.slice(0, -1); }
    else if (value === ".") { if (numpadText.indexOf(".") < 0) { numpadText = (numpadText || "0") + "."; } }
    else if (numpadText.length < 9) { numpadText = numpadText === "0" ? value : numpadText + value; }
    drawNumpad();
  });

  function numpadFinish(value) {
    if (!numpadTarget) { return; }
    var entrant = entrantById(numpadTarget.entrant);
    var criterion = criteriaById()[numpadTarget.criterion];
    if (!entrant || !criterion) { return; }
    if (value !== null) {
      var problem = numpadCheck(value, criterion);
      if (problem) { $("numpad-error").textContent = problem; return; }
      value = plain(toUnits(value));
    }
    if (numpadModal) { numpadModal.hide(); }
    setValue(entrant, criterion.id, value);
  }

  $("numpad-ok").addEventListener("click", function () {
    numpadFinish(numpadText === "" ? null : numpadText);
  });
  $("numpad-clear").addEventListener("click", function () { numpadFinish(null); });
  numpad.addEventListener("keydown", function (event) {
    if (/^[0-9.]$/.test(event.key)) {
      var button = numpad.querySelector('[data-key="' + event.key + '"]');
      if (button) { button.click(); }
      event.preventDefault();
    } else if (event.key === "Backspace") {
      numpad.querySelector('[data-key="back"]').click();
      event.preventDefault();
    } else if (event.key === "Enter") {
      $("numpad-ok").click();
      event.preventDefault();
    }
  });

  // ------------------------------------------------------------------ summary, then submit

  var summary = $("summary");
  var summaryEntrant = null;

  function openSummary(entrant) {
    var criteria = criteriaById();
    var figures = entrantFigures(entrant);
    var rows = $("summary-rows");
    rows.textContent = "";
    entrant.criteria.forEach(function (id) {
      var criterion = criteria[id];
      var value = valueOf(entrant, id);
      var marks = marksUnits(criterion, value);
      rows.appendChild(el("tr", {}, [
        el("td", { text: criterion.code + " " + criterion.name }),
        el("td", { className: "text-end", text: value == null ? ds.msgBlank :
          criterion.ladder ? fmt(ds.msgLevel, { level: value }) : plain(toUnits(value)) }),
        el("td", { className: "text-end", text: marks == null ? "—" : plain(marks) }),
      ]));
    });
    $("summary-total").textContent = plain(roundUnits(figures.total, sheet.competition.places)) + " / " + plain(figures.maximum);
    $("summary-title").textContent = fmt(ds.msgSubmit, { code: entrant.code });
    summaryEntrant = entrant.id;
    var instance = modal(summary);
    if (instance) { instance.show(); }
  }

  $("summary-confirm").addEventListener("click", function () {
    if (summaryEntrant == null) { return; }
    submits[summaryEntrant] = { nonce: newNonce() };
    delete entrantErrors[summaryEntrant];
    savePending();
    var instance = modal(summary);
    if (instance) { instance.hide(); }
    summaryEntrant = null;
    render();
    schedule(0);
  });

  // ------------------------------------------------------------------ talking to the server

  function request(method, url, body) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    var options = { method: method, credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (controller) { options.signal = controller.signal; }
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = ds.csrf;
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      if (timer) { clearTimeout(timer); }
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    }, function (error) {
      if (timer) { clearTimeout(timer); }
      throw error;
    });
  }

  function errorText(answer) {
    return (answer.data && answer.data.error && answer.data.error.message) || fmt(ds.msgError, { status: answer.status });
  }

  function authFailed(answer) {
    if (answer.status === 401) {
      authProblem = "login";
      showAlert(ds.msgLogin, { href: ds.urlLogin, text: "→" });
      return true;
    }
    if (answer.status === 400 && answer.data && answer.data.error && answer.data.error.code === "csrf_failed") {
      authProblem = "reload";
      showAlert(ds.msgReload, { href: window.location.href, text: "↻" });
      return true;
    }
    return false;
  }

  function nextOperation() {
    var keys = Object.keys(pending);
    for (var i = 0; i < keys.length; i++) {
      if (!pending[keys[i]].blocked) { return { type: "score", key: keys[i], item: pending[keys[i]] }; }
    }
    var entrants = Object.keys(submits);
    for (var j = 0; j < entrants.length; j++) {
      var id = parseInt(entrants[j], 10);
      var waiting = Object.keys(pending).some(function (key) { return pending[key].entrant === id; });
      if (!waiting) { return { type: "submit", entrant: id, item: submits[entrants[j]] }; }
    }
    return null;
  }

  function schedule(delay) {
    if (flushTimer) { clearTimeout(flushTimer); }
    flushTimer = setTimeout(flush, delay);
  }

  function applyScore(operation, answer) {
    var item = operation.item;
    var entrant = entrantById(item.entrant);
    if (entrant && answer.data.score) {
      var score = answer.data.score;
      entrant.scores[String(score.criterion_id)] = { value: score.value, note: score.note, state: score.state,
        updated_at: score.updated_at };
      if (answer.data.entrant) {
        entrant.state = answer.data.entrant.state;
        entrant.scored = answer.data.entrant.scored;
      }
    }
    if (pending[operation.key] && pending[operation.key].nonce === item.nonce) { delete pending[operation.key]; }
  }

  function handle(operation, answer) {
    if (authFailed(answer)) { return false; }
    if (answer.status >= 500 || answer.status === 429 || answer.status === 0) { online = true; return false; }
    online = true;
    if (operation.type === "score") {
      if (answer.status === 200) {
        applyScore(operation, answer);
      } else if (answer.status === 409 && answer.data.error &&
                 (answer.data.error.code === "submitted" || answer.data.error.code === "locked")) {
        delete pending[operation.key];  // the server's submitted value stands
        showAlert(errorText(answer));
        refreshSheet();
      } else if (pending[operation.key] && pending[operation.key].nonce === operation.item.nonce) {
        pending[operation.key].blocked = true;
        pending[operation.key].error = errorText(answer);
      }
    } else {
      var entrant = entrantById(operation.entrant);
      if (answer.status === 200 || (answer.status === 409 && answer.data.error && answer.data.error.code === "submitted")) {
        if (entrant) { entrant.state = "submitted"; }
        delete submits[operation.entrant];
        refreshSheet();
      } else {
        delete submits[operation.entrant];
        entrantErrors[operation.entrant] = errorText(answer);
      }
    }
    store("sheet", sheet);
    savePending();
    return true;
  }

  function flush() {
    if (flushTimer) { clearTimeout(flushTimer); flushTimer = null; }
    if (inFlight || authProblem) { renderSync(); return; }
    var operation = nextOperation();
    if (!operation) { renderSync(); return; }
    inFlight = true;
    renderSync();
    var call;
    if (operation.type === "score") {
      var item = operation.item;
      var body = { round_id: parseInt(ds.roundId, 10), entrant_id: item.entrant, criterion_id: item.criterion,
        value: item.value, nonce: item.nonce };
      if (item.note !== undefined) { body.note = item.note; }
      call = request("PUT", ds.urlScore, body);
    } else {
      call = request("POST", ds.urlSubmit.replace("{id}", String(operation.entrant)), { nonce: operation.item.nonce });
    }
    call.then(function (answer) {
      inFlight = false;
      var done = handle(operation, answer);
      render();
      schedule(done ? 0 : RETRY_MS);
    }, function () {
      inFlight = false;
      online = false;  // no answer: keep everything, try again later
      render();
      schedule(RETRY_MS);
    });
  }

  function refreshSheet() {
    return request("GET", ds.urlSheet).then(function (answer) {
      if (authFailed(answer)) { return; }
      if (answer.status === 200 && answer.data && answer.data.entrants) {
        online = true;
        sheet = answer.data;
        fromCache = false;
        store("sheet", sheet);
        if (current == null || !entrantById(current)) {
          current = sheet.entrants.length ? sheet.entrants[0].id : null;
          store("current", current);
        }
        if (!authProblem) { showAlert(""); }
      } else if (!sheet) {
        showAlert(errorText(answer));
      }
      render();
    }, function () {
      online = false;
      if (!sheet) { showAlert(ds.msgLoadFailed); } else if (fromCache) { showAlert(ds.msgCached); }
      render();
    });
  }

  window.addEventListener("online", function () { online = true; schedule(0); refreshSheet(); });
  window.addEventListener("offline", function () { online = false; renderSync(); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { schedule(0); }
  });
  setInterval(function () {
    if (!inFlight && !Object.keys(pending).length && !Object.keys(submits).length) { refreshSheet(); }
  }, REFRESH_MS);

  if (sheet) {
    if (current == null && sheet.entrants.length) { current = sheet.entrants[0].id; }
    render();
  }
  refreshSheet().then(function () { schedule(0); });
})();
