// Call control on the desk beyond answer/hold/blind transfer (B3, B12): the parties of the call, mute,
// consultation, attended transfer, three-way, leaving it; and the wrap-up code picker after a call.
// Follows the websocket through desk.js's "desk:event"; talks to /api/v1/acd/calls/… with the CSRF token.
(function () {
  "use strict";
  const root = document.getElementById("desk");
  const cc = document.getElementById("cc");
  if (!root || !cc) return;
  const $ = (id) => document.getElementById(id);
  // data-s-no_answer is dataset.sNo_answer: the first letter after "s-" is upper-cased, the rest kept
  const T = (key) => cc.dataset["s" + key.charAt(0).toUpperCase() + key.slice(1)] || key;
  const ME = "u" + JSON.parse(root.dataset.me || "{}").id;
  const st = {call: null, phase: "idle", view: null, wrap: null};

  async function post(url, body) {
    const r = await fetch(url, {method: "POST", credentials: "same-origin",
                                headers: {"Content-Type": "application/json", "X-CSRF-Token": root.dataset.csrf},
                                body: JSON.stringify(body || {})});
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    return {ok: r.ok, status: r.status, data};
  }

  function say(text, bad) {
    const f = $("flash");
    if (!f) return;
    f.textContent = text;
    f.hidden = false;
    f.classList.toggle("bad", !!bad);
    clearTimeout(say.t);
    say.t = setTimeout(() => { f.hidden = true; }, 5000);
  }

  function problem(r) {
    const d = r.data || {};
    return d.message || (d.fields && Object.values(d.fields).join(" ")) || d.error || `HTTP ${r.status}`;
  }

  // ------------------------------------------------------------------------------------ the call panel
  function render() {
    const v = st.view;
    const consult = v && v.consult;
    const lead = !!(v ? v.lead === ME : st.phase === "connected");
    const live = !!(st.call && st.phase === "connected" && !(v && v.ended));
    cc.dataset.state = !live ? "idle" : consult ? consult.state : "talking";
    cc.dataset.role = lead ? "lead" : "consulted";
    const muted = !!(v && (v.muted || []).includes(ME));
    $("btn-mute").disabled = !live;
    $("btn-mute").textContent = muted ? T("unmute") : T("mute");
    $("btn-mute").setAttribute("aria-pressed", muted ? "true" : "false");
    $("consult-target").disabled = $("btn-consult").disabled = !(live && lead && !consult);
    $("btn-complete").disabled = !(live && lead && consult && consult.state !== "ringing");
    $("btn-conference").disabled = !(live && lead && consult && consult.state === "talking");
    $("btn-cancel-consult").disabled = !(live && lead && consult && consult.state !== "conference");
    $("btn-leave").disabled = !(live && consult && (consult.state === "conference" || !lead));
    const verifying = !!(v && v.verification && v.verification.state === "collecting");
    $("verify-kind").disabled = $("btn-verify").disabled = !(live && lead && !consult && !verifying);
    renderVerification(live && lead && v ? v.verification : null);
    const ul = $("cc-parties");
    ul.textContent = "";
    if (!live || !v) return;
    if (!lead) {
      const li = document.createElement("li");
      li.className = "note";
      li.textContent = T("from");
      ul.append(li);
    }
    for (const p of v.parties || []) {
      const li = document.createElement("li");
      li.dataset.role = p.role;
      li.dataset.state = p.state;
      const mine = p.id === ME;
      const who = p.role === "customer" ? T("customer") : mine ? T("you")
                : p.role === "agent" ? T("colleague") : T("consulted");
      const name = document.createElement("strong");
      name.textContent = mine ? who : `${who}: ${p.name || p.number || ""}`;
      const state = document.createElement("span");
      state.className = "muted";
      // "talking with you" is how the one who consults sees the consulted party, not how they see themselves
      const shown = mine && p.state === "talking" ? "connected" : p.state;
      state.textContent = ` · ${T(shown)}${p.muted ? " · " + T("muted") : ""}`;
      li.append(name, state);
      ul.append(li);
    }
  }

  // The IVR verification's state or result, in words, with its digits and customer filled in.
  function renderVerification(ver) {
    const p = $("cc-verify");
    if (!ver) { p.hidden = true; p.textContent = ""; return; }
    const c = ver.customer || {};
    const values = {digits: ver.digits || "", name: c.name || "", number: c.number || "", reason: ver.reason || ""};
    p.textContent = T("v_" + ver.state).replace(/%\((\w+)\)s/g, (_, k) => values[k] || "");
    p.dataset.state = ver.state;
    p.hidden = false;
  }

  async function act(action, body) {
    if (!st.call) return null;
    const r = await post(`/api/v1/acd/calls/${encodeURIComponent(st.call)}/${action}`, body);
    if (!r.ok) { say(problem(r), true); return null; }
    // a call we handed on is gone from the ACD's view: keep its id for the wrap-up that follows
    if (!r.data.ended) st.view = r.data;
    render();
    return r.data;
  }

  // ------------------------------------------------------------------------------------ wrap-up codes
  async function offerWrapUp(callId, caller) {
    const r = await fetch(`/api/v1/acd/calls/${encodeURIComponent(callId)}/wrap-up`, {credentials: "same-origin"});
    if (!r.ok) return;
    const d = await r.json();
    st.wrap = callId;
    const box = $("wrapup-codes");
    box.textContent = "";
    const given = new Set(((d.given || [])[0] || {}).codes || []);
    for (const c of d.codes) {
      const label = document.createElement("label");
      label.className = "check";
      const input = document.createElement("input");
      input.type = "checkbox";
      input.value = c.code;
      input.checked = given.has(c.code);
      label.append(input, ` ${c.name}`);
      label.title = c.code;
      box.append(label);
    }
    if (!d.codes.length) {
      const p = document.createElement("p");
      p.className = "empty";
      p.textContent = T("nocodes");
      box.append(p);
    }
    $("wrapup-caller").textContent = caller || "";
    $("wrapup-required").hidden = !d.required;
    $("wrapup-error").hidden = true;
    $("wrapup").hidden = !d.codes.length && !d.required;
  }

  $("wrapup").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!st.wrap) return;
    const codes = [...$("wrapup-codes").querySelectorAll("input:checked")].map((i) => i.value);
    const r = await post(`/api/v1/acd/calls/${encodeURIComponent(st.wrap)}/wrap-up`,
                         {codes, note: $("wrapup-note").value});
    if (!r.ok) {
      $("wrapup-error").textContent = problem(r);
      $("wrapup-error").hidden = false;
      return;
    }
    $("wrapup").hidden = true;
    $("wrapup-note").value = "";
    st.wrap = null;
    say(T("saved"));
  });

  // ------------------------------------------------------------------------------------ live events
  root.addEventListener("desk:event", (ev) => {
    const {type, data} = ev.detail;
    if (type === "agent.state" && data.state !== "busy" && st.view && st.view.lead && st.view.lead !== ME) {
      st.call = null; st.phase = "idle"; st.view = null;  // a consultation we were in is over
    } else if (type === "call.offered") {
      st.call = data.call_id; st.phase = "ringing"; st.view = null; st.caller = data.caller;
    } else if (type === "call.parties" && data.view) {
      if (data.ended) {
        if (st.call === data.call_id && st.phase !== "connected") { st.call = null; st.view = null; }
      } else {
        if (st.call !== data.call_id) { st.call = data.call_id; st.caller = ""; }
        st.phase = "connected";
        st.view = data;
        // no longer on the call (transferred it away, or left): the panel goes quiet
        const consultedId = data.consult && data.consult.agent_id;
        if (data.lead !== ME && consultedId !== ME) { st.phase = "idle"; st.view = null; }
      }
      const ver = data.verification;
      const seen = `${data.call_id}:${(data.history || []).length}`;
      if (ver && ver.state === "verified" && ver.customer && ver.customer.id && data.lead === ME && st.opened !== seen) {
        st.opened = seen;  // once per result: the customer's file opens beside the call
        root.dispatchEvent(new CustomEvent("desk:open-customer", {detail: {id: ver.customer.id}}));
      }
      const last = (data.history || []).slice(-1)[0];
      if (last && ["busy", "no_answer", "hung_up", "left"].includes(last.kind) && data.lead === ME) say(T(last.kind));
    } else if (data.call_id !== st.call) {
      return;
    } else if (type === "call.answered") {
      st.phase = "connected";
    } else if (type === "call.offer_withdrawn") {
      st.call = null; st.phase = "idle"; st.view = null;
    } else if (type === "call.ended" || (type === "call.transferred" && data.agent_id === ME)) {
      const callId = st.call;
      const lead = !st.view || st.view.lead === ME;
      st.phase = "idle"; st.view = null; st.call = null;
      if (lead) offerWrapUp(callId, st.caller);
      if (type === "call.transferred") say(T("transferred"));
    }
    render();
  });

  $("btn-mute").addEventListener("click", () => {
    const muted = st.view && (st.view.muted || []).includes(ME);
    act(muted ? "unmute" : "mute");
  });
  $("consult-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const target = $("consult-target").value.trim();
    if (!target) { $("consult-target").focus(); return; }
    if (await act("consult", {target})) $("consult-target").value = "";
  });
  $("btn-complete").addEventListener("click", () => act("consult-complete"));
  $("btn-conference").addEventListener("click", () => act("conference"));
  $("btn-cancel-consult").addEventListener("click", () => act("consult-cancel"));
  $("btn-leave").addEventListener("click", () => act("leave"));
  $("verify-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    act("verify", {kind: $("verify-kind").value});
  });

  // Single keys outside text fields, like desk.js's own.
  const KEYS = {
    m: () => $("btn-mute").click(), c: () => $("consult-target").focus(), k: () => $("btn-complete").click(),
    3: () => $("btn-conference").click(), g: () => $("btn-cancel-consult").click(), l: () => $("btn-leave").click(),
    v: () => { if (!$("btn-verify").disabled) $("btn-verify").click(); },
    w: () => { const first = $("wrapup-codes").querySelector("input"); if (!$("wrapup").hidden && first) first.focus(); },
  };
  document.addEventListener("keydown", (ev) => {
    const tag = (ev.target.tagName || "").toLowerCase();
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ["input", "textarea", "select"].includes(tag)) return;
    if (document.querySelector("dialog[open]")) return;
    const fn = KEYS[ev.key];
    if (fn) { ev.preventDefault(); fn(); }
  });
  render();
})();
