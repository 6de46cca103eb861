/* The score sheet (web/templates/rounds/sheet.html): running part totals, and a save that survives a
   dropped connection. Unsent answers are kept in localStorage and sent again until the server
   answers; one request at a time. A kept record belongs to one member (its key and its `user`: a
   shared phone must never send one member's answers as another's) and remembers the sheet version
   its answers were made from, which is the version it is sent with: answers kept on a phone while
   the member submitted from a desktop are then refused by the server (409), not saved over the newer
   sheet. The 409 returns what the server holds: when that is what this page sent before (a reply lost
   on the way back), the page adopts the server's version and goes on; otherwise the member chooses
   to discard the kept answers or to save them over the newer sheet. Scores are typed in a text input
   (a number input in a Vietnamese browser reads "25,5" as 255) and "," and "." both mark decimals.
   Without this script the form posts normally. */
(function () {
  "use strict";
  var form = document.getElementById("sheet-form");
  if (!form || !window.fetch || !window.FormData) { return; }
  var key = "ocop-sheet:" + form.getAttribute("data-key");
  var user = form.getAttribute("data-user");
  var vi = form.getAttribute("data-locale") === "vi";
  var statusLine = document.getElementById("sheet-status");
  var versionInput = form.querySelector("input[name=expected_version]");
  var conflictBox = document.getElementById("sheet-conflict");
  var inflight = false, timer = null, retryDelay = 2000, sent = [], serverVersion = null;

  function msg(name) { return form.getAttribute("data-msg-" + name) || ""; }
  function say(text, kind) {
    statusLine.textContent = text;
    statusLine.className = "sheet-status" + (kind ? " " + kind : "");
  }
  function fmt(n) { var t = (Math.round(n * 100) / 100).toFixed(2); return vi ? t.replace(".", ",") : t; }
  function shown(v) { return vi ? String(v).replace(".", ",") : String(v); }
  /* "25,5" or "25.5" -> 25.5; anything else NaN (the server says what is wrong with it) */
  function number(text) {
    var t = String(text).trim().replace(",", ".");
    return /^([0-9]+(\.[0-9]*)?|\.[0-9]+)$/.test(t) ? Number(t) : NaN;
  }

  function answers() {
    var out = {};
    var inputs = form.querySelectorAll("input[name^='c:']");
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i], code = el.name.slice(2);
      if (el.type === "radio") { if (el.checked) { out[code] = el.value; } }
      else if (el.value.trim() !== "") { out[code] = el.value.trim().replace(",", "."); }
    }
    return out;
  }

  function totals() {
    var parts = {}, total = 0;
    var inputs = form.querySelectorAll("input[name^='c:']");
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i], part = el.getAttribute("data-part");
      if (!(part in parts)) { parts[part] = 0; }
      if (el.type === "radio" && !el.checked) { continue; }
      var v = number(el.value);
      if (!isNaN(v)) { parts[part] += v; total += v; }
    }
    Object.keys(parts).forEach(function (p) {
      var out = document.getElementById("total-" + p);
      if (out) { out.textContent = fmt(parts[p]); }
    });
    document.getElementById("total").textContent = fmt(total);
  }

  function load() {
    var rec = null;
    try { rec = JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; }
    /* another member's record, or one that does not say which version it was made from: never sent */
    if (!rec || rec.user !== user || typeof rec.version !== "string" || !rec.answers) { return null; }
    return rec;
  }
  function keep(rec) {
    try { localStorage.setItem(key, JSON.stringify(rec)); } catch (e) { /* private mode: memory only */ }
  }
  function store(action) {
    var pending = { user: user, version: versionInput.value, answers: answers(), action: action, at: Date.now() };
    keep(pending);
    return pending;
  }
  /* the server now holds at version `to` what records made from version `from` were built on */
  function rebase(from, to) {
    if (memory && memory.version === from) { memory.version = to; }
    var now = load();
    if (now && now.version === from) { now.version = to; keep(now); }
  }
  function clear(pending) {
    var now = load();
    if (now && pending && now.at === pending.at) { localStorage.removeItem(key); }
  }

  function same(a, b) {
    var ka = Object.keys(a).filter(function (k) { return a[k] !== "" && a[k] !== null; });
    var kb = Object.keys(b).filter(function (k) { return b[k] !== "" && b[k] !== null; });
    if (ka.length !== kb.length) { return false; }
    /* a typed "30,5" and the server's 30.5 are the same answer */
    return ka.every(function (k) { return number(a[k]) === number(b[k]); });
  }
  function mine(server) {
    var status = server.status === "submitted" ? "submit" : "save";
    return sent.some(function (s) { return s.action === status && same(s.answers, server.answers || {}); });
  }

  function retry() {
    clearTimeout(timer);
    timer = setTimeout(send, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  }

  function send() {
    if (inflight) { return; }
    var pending = load() || memory;
    if (!pending) { return; }
    inflight = true;
    conflictBox.hidden = true;
    var body = new FormData();
    body.append("csrf_token", form.querySelector("input[name=csrf_token]").value);
    body.append("action", pending.action);
    body.append("expected_version", pending.version);
    Object.keys(pending.answers).forEach(function (code) { body.append("c:" + code, pending.answers[code]); });
    sent.push(pending);
    if (sent.length > 20) { sent.shift(); }
    say(msg("saving"));
    /* not form.action: the buttons named "action" shadow that property */
    fetch(form.getAttribute("action") || window.location.href, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "Accept": "application/json" }
    }).then(function (r) {
      return r.json().then(function (data) { return { r: r, data: data }; }, function () { return { r: r, data: null }; });
    }).then(function (res) {
      inflight = false;
      var r = res.r, data = res.data;
      if (r.ok && data && data.ok) {
        versionInput.value = String(data.version);
        rebase(pending.version, versionInput.value);  /* answers changed while this one was on its way */
        retryDelay = 2000;
        clear(pending);
        if (memory && memory.at === pending.at) { memory = null; }
        if (data.redirect) { window.location.assign(data.redirect); return; }
        say(data.message, "ok");
        if (load()) { send(); }  /* answers changed while this one was on its way */
      } else if (r.status === 409 && data && data.version !== undefined) {
        if (mine(data)) {  /* our own earlier save got through: carry on from its version */
          versionInput.value = String(data.version);
          rebase(pending.version, versionInput.value);
          send();
        } else {  /* changed elsewhere: nothing is overwritten unless the member says so */
          serverVersion = String(data.version);
          say("");
          conflictBox.hidden = false;
        }
      } else if (data && data.error) {
        clear(pending);  /* refused for what it holds: sending it again would not help */
        say(data.error, "error");
      } else {
        say(msg("error"), "error");
        retry();
      }
    }).catch(function () {
      inflight = false;
      say(msg("offline"), "error");
      retry();
    });
  }

  var memory = null, debounce = null;
  form.addEventListener("change", function () {
    totals();
    memory = store("save");
    clearTimeout(debounce);
    debounce = setTimeout(send, 1500);
  });
  form.addEventListener("input", totals);
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var action = ev.submitter && ev.submitter.value === "submit" ? "submit" : "save";
    clearTimeout(debounce);
    memory = store(action);
    send();
  });
  window.addEventListener("online", function () { retryDelay = 2000; send(); });

  document.getElementById("conflict-discard").addEventListener("click", function () {
    clearTimeout(debounce);
    clearTimeout(timer);
    try { localStorage.removeItem(key); } catch (e) { /* nothing kept */ }
    memory = null;
    window.location.replace(form.getAttribute("action"));
  });
  document.getElementById("conflict-apply").addEventListener("click", function () {
    conflictBox.hidden = true;
    var rec = load() || memory;
    if (!rec || serverVersion === null) { return; }
    versionInput.value = serverVersion;
    rec.version = serverVersion;
    if (load()) { keep(rec); }
    memory = rec;
    send();
  });

  var free = form.querySelectorAll("input.free");
  for (var f = 0; f < free.length; f++) { free[f].value = shown(free[f].value); }

  /* unsent answers of an earlier visit (the page was closed or reloaded while offline): the page now
     stands on the version they were made from, and they are sent with it */
  var earlier = load();
  if (earlier) {
    var boxes = form.querySelectorAll("input[name^='c:']");  /* the whole sheet as kept: blanks too */
    for (var i = 0; i < boxes.length; i++) {
      var el = boxes[i], code = el.name.slice(2);
      var kept = Object.prototype.hasOwnProperty.call(earlier.answers, code) ? String(earlier.answers[code]) : null;
      if (el.type === "radio") { el.checked = kept !== null && el.value === kept; }
      else { el.value = kept === null ? "" : shown(kept); }
    }
    versionInput.value = earlier.version;
    say(msg("unsent"));
    memory = earlier;
    sent.push(earlier);
    send();
  }
  totals();
})();
