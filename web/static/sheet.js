/* The score sheet (web/templates/rounds/sheet.html): running part totals, and a save that survives a
   dropped connection. Unsent answers are kept in localStorage and sent again until the server
   answers; one request at a time. The server refuses a save made from a stale version (409) and
   returns what it holds: when that is what this page sent before (a reply lost on the way back), the
   page adopts the server's version and goes on; otherwise the change came from elsewhere and the
   page says so. Without this script the form posts normally. */
(function () {
  "use strict";
  var form = document.getElementById("sheet-form");
  if (!form || !window.fetch || !window.FormData) { return; }
  var key = "ocop-sheet:" + form.getAttribute("data-key");
  var vi = form.getAttribute("data-locale") === "vi";
  var statusLine = document.getElementById("sheet-status");
  var versionInput = form.querySelector("input[name=expected_version]");
  var inflight = false, timer = null, retryDelay = 2000, sent = [];

  function msg(name) { return form.getAttribute("data-msg-" + name) || ""; }
  function say(text, kind) {
    statusLine.textContent = text;
    statusLine.className = "sheet-status" + (kind ? " " + kind : "");
  }
  function fmt(n) { var t = (Math.round(n * 100) / 100).toFixed(2); return vi ? t.replace(".", ",") : t; }

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
      var v = parseFloat(String(el.value).replace(",", "."));
      if (!isNaN(v)) { parts[part] += v; total += v; }
    }
    Object.keys(parts).forEach(function (p) {
      var out = document.getElementById("total-" + p);
      if (out) { out.textContent = fmt(parts[p]); }
    });
    document.getElementById("total").textContent = fmt(total);
  }

  function load() { try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; } }
  function store(action) {
    var pending = { answers: answers(), action: action, at: Date.now() };
    try { localStorage.setItem(key, JSON.stringify(pending)); } catch (e) { /* private mode: memory only */ }
    return pending;
  }
  function clear(pending) {
    var now = load();
    if (now && pending && now.at === pending.at) { localStorage.removeItem(key); }
  }

  function same(a, b) {
    var ka = Object.keys(a).filter(function (k) { return a[k] !== "" && a[k] !== null; });
    var kb = Object.keys(b).filter(function (k) { return b[k] !== "" && b[k] !== null; });
    if (ka.length !== kb.length) { return false; }
    return ka.every(function (k) { return Number(a[k]) === Number(b[k]); });
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
    var body = new FormData();
    body.append("csrf_token", form.querySelector("input[name=csrf_token]").value);
    body.append("action", pending.action);
    body.append("expected_version", versionInput.value);
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
        versionInput.value = data.version;
        retryDelay = 2000;
        clear(pending);
        if (memory && memory.at === pending.at) { memory = null; }
        if (data.redirect) { window.location.assign(data.redirect); return; }
        say(data.message, "ok");
        if (load()) { send(); }  /* answers changed while this one was on its way */
      } else if (r.status === 409 && data && data.version !== undefined) {
        versionInput.value = data.version;
        if (mine(data)) { send(); }  /* our own earlier save got through: carry on from its version */
        else { say(data.error || msg("conflict"), "error"); }
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

  /* unsent answers of an earlier visit (the page was closed or reloaded while offline) */
  var earlier = load();
  if (earlier) {
    Object.keys(earlier.answers).forEach(function (code) {
      var inputs = form.querySelectorAll("input[name='c:" + code.replace(/'/g, "") + "']");
      for (var i = 0; i < inputs.length; i++) {
        if (inputs[i].type === "radio") { inputs[i].checked = inputs[i].value === String(earlier.answers[code]); }
        else { inputs[i].value = earlier.answers[code]; }
      }
    });
    say(msg("unsent"));
    memory = earlier;
    sent.push(earlier);
    send();
  }
  totals();
})();
