// The agent desktop: state control, screen pop, call control, ticket work. Live over one websocket; data
// through the REST API with the session's CSRF token. No inline script or style (CSP): everything is here.
"use strict";
(function () {
  const root = document.getElementById("desk");
  if (!root) return;
  const CSRF = root.dataset.csrf;
  const STR = JSON.parse(root.dataset.strings || "{}");
  const ACD = JSON.parse(root.dataset.acd || "{}");
  const ME = JSON.parse(root.dataset.me || "{}");
  const $ = (id) => document.getElementById(id);
  const S = (s) => STR[s] || s;
  const STATE_LABEL = {ready: "Ready", paused: "Paused", busy: "Busy", reserved: "Ringing", wrap_up: "Wrap-up",
                       logged_out: "Logged out"};

  const desk = {state: ACD.agent ? ACD.agent.state : null, reason: ACD.agent ? ACD.agent.reason : null,
                call: null, customerId: null, ticket: null, held: false};

  // ------------------------------------------------------------------------------------------ helpers
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k.startsWith("data-")) node.dataset[k.slice(5).replace(/-(\w)/g, (_, c) => c.toUpperCase())] = v;
      else node.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  async function api(method, url, body) {
    const opts = {method, credentials: "same-origin",
                  headers: {"Accept": "application/json", "X-CSRF-Token": CSRF}};
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const resp = await fetch(url, opts);
    let data = null;
    if (resp.status !== 204) {
      try { data = await resp.json(); } catch (e) { data = {message: resp.statusText}; }
    }
    return {status: resp.status, ok: resp.ok, data};
  }

  function flash(text, bad) {
    const f = $("flash");
    f.textContent = text;
    f.className = bad ? "flash error" : "flash notice";
    f.hidden = false;
    clearTimeout(flash.timer);
    flash.timer = setTimeout(() => { f.hidden = true; }, 5000);
  }

  function problem(r) {
    const d = r.data || {};
    const fields = d.fields ? Object.entries(d.fields).map(([k, v]) => `${k}: ${v}`).join("; ") : "";
    return `${S("Error")}: ${d.message || d.error || r.status}${fields ? " (" + fields + ")" : ""}`;
  }

  function when(iso) {
    if (!iso) return "";
    const d = new Date(iso.endsWith("Z") ? iso : iso + "Z");
    return d.toLocaleString(document.documentElement.lang || undefined,
                            {dateStyle: "short", timeStyle: "short"});
  }

  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const mm = String(m).padStart(2, "0"), rr = String(r).padStart(2, "0");
    return h ? `${h}:${mm}:${rr}` : `${mm}:${rr}`;
  }

  // ------------------------------------------------------------------------------------ agent state
  function renderState() {
    const badge = $("state-badge");
    if (!badge) return;
    const state = desk.state || "none";
    badge.dataset.state = state;
    badge.className = `badge state-badge st-${state}`;
    badge.textContent = state === "none" ? "–" : S(STATE_LABEL[state] || state) + (desk.reason ? ` · ${desk.reason}` : "");
    const loggedIn = state !== "logged_out" && state !== "none";
    const ext = $("ext");
    if (ext && ext.dataset.phoneLabel) {  // external phone mode: offers ring an outside number, not the extension
      ext.textContent = loggedIn && desk.phone ? ext.dataset.phoneLabel.replace("%(p)s", desk.phone)
                                               : ext.dataset.extLabel;
    }
    if ($("login-form")) {
      $("login-form").hidden = loggedIn;
      $("btn-ready").hidden = !loggedIn;
      $("btn-ready").disabled = state === "ready" || state === "busy" || state === "reserved";
      $("pause-form").hidden = !loggedIn;
      $("btn-pause").disabled = state === "paused";
      $("btn-logout").hidden = !loggedIn;
    }
  }

  async function agentAction(action, body) {
    const r = await api("POST", `/api/v1/acd/me/${action}`, body || {});
    if (r.ok) {
      desk.state = r.data.state;
      desk.reason = r.data.reason;
      desk.phone = r.data.phone;
      renderState();
    } else {
      flash(problem(r), true);
    }
  }

  async function loadMe() {
    if (!ACD.agent) return;
    const r = await api("GET", "/api/v1/acd/me");
    if (r.ok) {
      desk.state = r.data.state;
      desk.reason = r.data.reason;
      desk.phone = r.data.phone;
      renderState();
    }
  }

  // ------------------------------------------------------------------------------------- the call
  function renderCall() {
    const c = desk.call;
    const panel = $("call-panel");
    panel.dataset.state = c ? c.phase : "idle";
    const phaseLabel = {ringing: "Incoming call", connected: "Connected", ended: "Call ended"};
    $("call-state").textContent = c ? S(desk.held && c.phase === "connected" ? "On hold" : phaseLabel[c.phase])
                                    : $("call-state").dataset.idle;
    $("call-caller").textContent = c ? (c.display || c.caller || "") : "";
    const queue = c && (ACD.queues || []).find((q) => q.id === c.queue_id);
    $("call-queue").textContent = c ? `${S("Queue")}: ${queue ? queue.name : c.queue_id || ""}` : "";
    $("call-queue").hidden = !c;
    $("call-digits").textContent = c && c.digits ? `${S("Digits")}: ${c.digits}` : "";
    $("btn-answer").disabled = !(c && c.phase === "ringing");
    const live = !!(c && c.phase === "connected");
    $("btn-hold").disabled = !live;
    $("btn-hold").textContent = desk.held ? $("btn-hold").dataset.retrieve : $("btn-hold").dataset.hold;
    $("btn-transfer").disabled = !live;
    $("btn-hangup").disabled = !live;
    tick();
  }

  function tick() {
    const c = desk.call;
    $("call-timer").textContent = c ? clock((Date.now() - c.since) / 1000 + (c.phase === "ringing" ? c.wait_s || 0 : 0))
                                    : "00:00";
  }

  async function callAction(action, body) {
    if (!desk.call) return;
    const r = await api("POST", `/api/v1/acd/calls/${encodeURIComponent(desk.call.id)}/${action}`, body || {});
    if (!r.ok) {
      flash(problem(r), true);
      return false;
    }
    return true;
  }

  // ------------------------------------------------------------------------------------ screen pop
  function showArea(which) {
    $("pop").hidden = which !== "pop" && which !== "both";
    $("ticket").hidden = which !== "ticket" && which !== "both";
    $("workarea-empty").hidden = which !== "none";
  }

  function listOrEmpty(ul, items, render, empty) {
    ul.textContent = "";
    if (!items.length) ul.append(el("li", {class: "muted"}, S(empty)));
    for (const item of items) ul.append(render(item));
  }

  function ticketItem(t) {
    const li = el("li", {class: t.overdue ? "overdue" : "", "data-ticket": String(t.id)},
                  el("button", {type: "button", class: "link open-ticket", "data-id": String(t.id)},
                     `#${t.id} ${t.subject || ""}`),
                  el("span", {class: "muted"}, ` · ${t.channel} · ${t.state} · ${S(t.overdue ? "overdue" : "due")} ${when(t.due_at)}`));
    return li;
  }

  function renderFile(file) {
    const c = file.customer;
    desk.customerId = c.id;
    $("pop-name").textContent = c.name;
    $("pop-meta").textContent = [c.number, ...(c.phones || []), ...(c.emails || [])].filter(Boolean).join(" · ");
    $("pop-file").hidden = false;
    $("pop-unknown").hidden = true;
    listOrEmpty($("file-tickets"), file.open_tickets, ticketItem, "No open tickets.");
    listOrEmpty($("file-history"), file.history, (m) => m.type === "document" ? el("li", {class: "msg doc"},
      el("span", {class: "tag"}, S("Document")), " ", documentLink(m), el("span", {class: "muted"}, ` · ${when(m.at)}`))
      : el("li", {class: `msg dir-${m.direction}`},
      el("span", {class: "tag"}, m.channel), " ", el("span", {class: "muted"}, `${S(m.direction)} · ${when(m.at)} · #${m.ticket_id}`),
      el("div", {class: "subject"}, m.subject || ""), el("div", {class: "excerpt"}, m.excerpt || "")), "No history yet.");
    listOrEmpty($("file-activities"), file.activities, (a) => el("li", {class: a.done ? "done" : ""},
      el("span", {class: "tag"}, S(a.kind)), " ", a.text, a.due_at ? el("span", {class: "muted"}, ` · ${when(a.due_at)}`) : null),
      "No notes or tasks.");
    listOrEmpty($("file-documents"), file.documents, (d) => el("li", {}, documentLink(d),
      el("span", {class: "muted"}, ` · ${d.mime || ""} · ${when(d.created_at)}`)), "No documents.");
  }

  function documentLink(d) {
    // A download from the API (tenant and ownership checked there), saved as a file, never shown inline.
    return el("a", {href: d.download, download: d.filename || ""}, d.filename || d.digest.slice(0, 12));
  }

  function renderPop(pop, call) {
    const badge = $("pop-identity");
    $("pop").dataset.identity = pop.identity;
    badge.className = `badge id-${pop.identity}`;
    badge.textContent = S({known: "Known customer", unknown: "Unknown caller", employee: "Employee"}[pop.identity]);
    $("pop-file").hidden = true;
    $("pop-unknown").hidden = true;
    desk.customerId = null;
    if (pop.identity === "known" && pop.file) {
      renderFile(pop.file);
      if (pop.ambiguous) flash(S("Several customers share this number."), false);
    } else if (pop.identity === "known") {
      $("pop-name").textContent = S("Known customer");
      $("pop-meta").textContent = S("Not visible to you (private customer of a colleague).");
    } else if (pop.identity === "employee") {
      const e = pop.employee || {};
      $("pop-name").textContent = e.name || "";
      $("pop-meta").textContent = [e.department, e.title, pop.caller].filter(Boolean).join(" · ");
    } else {
      $("pop-name").textContent = pop.caller || (call && call.caller) || "";
      $("pop-meta").textContent = "";
      $("pop-unknown").hidden = false;
      $("cc-phone").value = pop.caller || "";
      $("cc-name").value = "";
    }
    showArea(desk.ticket ? "both" : "pop");
  }

  async function openCustomer(id) {
    const r = await api("GET", `/desk/customers/${id}/file`);
    if (!r.ok) { flash(problem(r), true); return; }
    renderPop({identity: "known", file: r.data, caller: ""}, null);
  }
  // the call panel found the caller (an IVR verification of their customer number): show their file
  root.addEventListener("desk:open-customer", (ev) => openCustomer(ev.detail.id));

  // -------------------------------------------------------------------------------------- tickets
  async function openTicket(id) {
    const [t, m] = await Promise.all([api("GET", `/api/v1/tickets/${id}`),
                                      api("GET", `/api/v1/tickets/${id}/messages?limit=500`)]);
    if (!t.ok) { flash(problem(t), true); return; }
    desk.ticket = t.data;
    $("ticket").dataset.id = String(t.data.id);
    $("ticket-subject").textContent = `#${t.data.id} ${t.data.subject}`;
    $("ticket-meta").textContent = `${t.data.channel} · ${t.data.state} · ${S("due")} ${when(t.data.due_at)}`;
    const items = m.ok ? m.data.items : [];
    $("ticket-meta").dataset.attached = "";
    listOrEmpty($("ticket-timeline"), items, messageItem, "No history yet.");
    if (items.some((x) => x.kind === "voicemail")) addVoicePlayers(id);
    if (items.some((x) => x.channel === "sms" && x.direction === "out")) addSmsStates(id);
    const lastIn = [...items].reverse().find((x) => x.direction === "in" && x.sender);
    const channel = ["mail", "sms", "fax", "letter"].includes(t.data.channel) ? t.data.channel : "mail";
    $("reply-channel").value = channel;
    $("reply-to").value = lastIn ? lastIn.sender : "";
    $("reply-error").hidden = true;
    showArea($("pop").hidden ? "ticket" : "both");
    root.dispatchEvent(new CustomEvent("desk:ticket", {detail: t.data}));  // desk-reply.js: blocks, files
    $("ticket").scrollIntoView({block: "nearest"});
  }

  function messageItem(msg) {
    return el("li", {class: `msg dir-${msg.direction} kind-${msg.kind}`, "data-id": String(msg.id)},
      el("span", {class: "tag"}, msg.channel), " ",
      el("span", {class: "muted"}, `${S(msg.direction)} · ${msg.kind} · ${when(msg.created_at)}${msg.sender ? " · " + msg.sender : ""}`),
      msg.subject ? el("div", {class: "subject"}, msg.subject) : null,
      el("div", {class: "body"}, msg.body || ""));
  }

  // News on the open ticket (desk-live.js): its head is read again and the messages not shown yet are appended,
  // so a reply being written, the chosen channel and the scroll position stay as they are.
  async function ticketNews(id) {
    if (!desk.ticket || String(desk.ticket.id) !== String(id)) return;
    const [t, m] = await Promise.all([api("GET", `/api/v1/tickets/${id}`),
                                      api("GET", `/api/v1/tickets/${id}/messages?limit=500`)]);
    if (!t.ok || !m.ok || !desk.ticket || String(desk.ticket.id) !== String(id)) return;
    desk.ticket = t.data;
    $("ticket-meta").textContent = `${t.data.channel} · ${t.data.state} · ${S("due")} ${when(t.data.due_at)}`;
    const timeline = $("ticket-timeline");
    const fresh = m.data.items.filter((x) => !timeline.querySelector(`li[data-id="${x.id}"]`));
    if (fresh.length && !timeline.querySelector("li[data-id]")) timeline.textContent = "";  // the empty state
    for (const msg of fresh) timeline.append(messageItem(msg));
    if (fresh.some((x) => x.kind === "voicemail")) addVoicePlayers(id);
    root.dispatchEvent(new CustomEvent("desk:ticket-fresh", {detail: {ticket: t.data, added: fresh}}));
  }
  root.addEventListener("desk:ticket-news", (ev) => ticketNews(ev.detail.id));
  root.addEventListener("desk:refresh-work", () => loadWork());

  // A voice message plays in its timeline entry (B8/B18); a mail that could not go out says why.
  async function addVoicePlayers(ticketId) {
    const r = await api("GET", `/api/v1/tickets/${ticketId}/voice-messages`);
    if (!r.ok) return;
    for (const vm of r.data.items) {
      const li = $("ticket-timeline").querySelector(`li[data-id="${vm.message_id}"]`);
      if (!li) continue;
      li.append(el("audio", {controls: "", preload: "none", src: vm.audio_url, class: "voice",
                             "aria-label": `${S("Voice message")} ${Math.round(vm.duration_s)} s`}),
                vm.mailed ? null : el("div", {class: "field-error"}, vm.mail_error));
    }
  }

  // An SMS sent from the ticket says how far it got: queued, sent, delivered (a modem's or gateway's report).
  function smsState(sms) {
    const li = $("ticket-timeline").querySelector(`li[data-id="${sms.message_id}"]`);
    if (!li) return;
    let badge = li.querySelector(".sms-state");
    if (!badge) { badge = el("div", {class: "sms-state muted", role: "status"}); li.append(badge); }
    badge.dataset.state = sms.state;
    badge.textContent = S(`SMS ${sms.state}`) + (sms.last_error && sms.state !== "delivered" ? ` · ${sms.last_error}` : "");
  }

  async function addSmsStates(ticketId) {
    const r = await api("GET", `/api/v1/sms?ticket_id=${ticketId}&limit=200`);
    if (!r.ok || !desk.ticket || String(desk.ticket.id) !== String(ticketId)) return;
    for (const sms of r.data.items) if (sms.message_id) smsState(sms);
  }

  async function ticketAction(body) {
    if (!desk.ticket) return;
    const r = await api("POST", `/api/v1/tickets/${desk.ticket.id}/actions`, body);
    if (!r.ok) { flash(problem(r), true); return; }
    flash(S("Saved."));
    await openTicket(desk.ticket.id);
    loadWork();
  }

  // ------------------------------------------------------------------------------------ home: work
  async function loadWork() {
    const r = await api("GET", "/desk/work");
    if (!r.ok) return;
    listOrEmpty($("my-tickets"), r.data.tickets, ticketItem, "Nothing waiting for you.");
    listOrEmpty($("my-tasks"), r.data.tasks, (t) => el("li", {class: t.overdue ? "overdue" : ""},
      t.customer_id ? el("button", {type: "button", class: "link open-customer", "data-id": String(t.customer_id)}, t.text)
                    : t.text, el("span", {class: "muted"}, ` · ${when(t.due_at)}`)), "Nothing waiting for you.");
    root.dispatchEvent(new CustomEvent("desk:work", {detail: r.data}));  // desk-live.js: hints, queue count
    const alerts = $("alerts");
    alerts.textContent = "";
    for (const a of r.data.alerts) {
      alerts.append(el("p", {class: "alert", "data-kind": a.kind},
                       `${a.count} × ${S({overdue: "overdue", escalated: "escalated"}[a.kind] || "task")}`));
    }
  }

  function renderQueues(snapshot) {
    const ul = $("queue-summary");
    ul.textContent = "";
    for (const q of snapshot.queues || []) {
      ul.append(el("li", {"data-queue": q.id}, el("strong", {}, q.name), ` ${q.waiting.length} · ${clock(q.longest_wait_s)}`,
                   el("span", {class: "muted"}, ` · ${q.agents_free}/${q.agents_logged_in}`)));
    }
  }

  // ------------------------------------------------------------------------------------ websocket
  function connect(delay) {
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws?view=desk`);
    const link = document.body;
    ws.onopen = () => {
      link.dataset.link = "live";
      delay = 1000;
      root.dispatchEvent(new CustomEvent("desk:socket", {detail: ws}));  // desk-fax.js names the ticket shown
    };
    ws.onclose = () => {
      link.dataset.link = "offline";
      setTimeout(() => connect(Math.min((delay || 1000) * 2, 15000)), delay || 1000);
    };
    ws.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      onEvent(msg.type, msg.data || {});
    };
  }

  function onEvent(type, d) {
    root.dispatchEvent(new CustomEvent("desk:event", {detail: {type, data: d}}));  // desk-call.js follows too
    if (type === "snapshot") { renderQueues(d); return; }
    if (type === "sms.status") {
      if (desk.ticket && d.sms && String(d.ticket_id) === String(desk.ticket.id)) smsState(d.sms);
      return;
    }
    if (type === "agent.state") {
      desk.state = d.state;
      desk.reason = d.reason || null;
      renderState();
      return;
    }
    if (type === "call.offered") {
      desk.held = false;
      desk.call = {id: d.call_id, caller: d.caller, display: d.caller_display, queue_id: d.queue_id,
                   digits: d.digits, wait_s: d.wait_s || 0, phase: "ringing", since: Date.now()};
      renderCall();
      if (d.pop) renderPop(d.pop, desk.call);
      $("btn-answer").focus();
      return;
    }
    if (type === "call.parties" && d.view && !d.ended && d.lead === `u${ME.id}`
        && (!desk.call || desk.call.id !== d.call_id)) {
      // a colleague completed an attended transfer to us: the call is ours now (desk-call.js shows its parties)
      const customer = (d.parties || []).find((p) => p.role === "customer");
      desk.held = false;
      desk.call = {id: d.call_id, caller: customer ? customer.name : "", queue_id: d.queue_id, phase: "connected",
                   since: Date.now()};
      renderCall();
      return;
    }
    if (!desk.call || d.call_id !== desk.call.id) return;
    if (type === "call.offer_withdrawn") {
      desk.call = null;
    } else if (type === "call.answered") {
      desk.call.phase = "connected";
      desk.call.since = Date.now();
    } else if (type === "call.ended" || type === "call.transferred") {  // handed on: over for this desk
      desk.call.phase = "ended";
      desk.held = false;
      setTimeout(() => { if (desk.call && desk.call.phase === "ended") { desk.call = null; renderCall(); } }, 4000);
    }
    renderCall();
  }

  // -------------------------------------------------------------------------------------- wiring
  function on(id, event, fn) {
    const node = $(id);
    if (node) node.addEventListener(event, (ev) => { if (event === "submit") ev.preventDefault(); fn(ev); });
  }

  on("login-form", "submit", () => agentAction("login", {mode: $("mode").value,
                                                        phone: $("login-phone") ? $("login-phone").value.trim() : ""}));
  on("btn-ready", "click", () => agentAction("ready"));
  on("pause-form", "submit", () => agentAction("pause", {reason: $("pause-reason").value}));
  on("btn-logout", "click", () => agentAction("logout"));
  on("btn-answer", "click", async () => {
    if (await callAction("answer")) { desk.call.phase = "connected"; desk.call.since = Date.now(); renderCall(); }
  });
  on("btn-hold", "click", async () => {
    if (await callAction(desk.held ? "retrieve" : "hold")) { desk.held = !desk.held; renderCall(); }
  });
  on("btn-hangup", "click", () => callAction("hangup"));
  on("transfer-form", "submit", async () => {
    const queue = $("transfer-queue").value, number = $("transfer-number").value.trim();
    if (!queue && !number) { $("transfer-queue").focus(); return; }
    await callAction("transfer", queue ? {queue} : {number});
  });
  on("dial-form", "submit", async () => {
    const number = $("dial-number").value.trim();
    if (!number) { $("dial-number").focus(); return; }
    const r = await api("POST", "/api/v1/acd/me/dial", {number});
    flash(r.ok ? `${S("Connected")}: ${number}` : problem(r), !r.ok);
  });
  on("btn-next", "click", async () => {
    const r = await api("POST", "/api/v1/tickets/next");
    if (r.status === 204) { $("next-result").textContent = S("Nothing fits you in the queue right now."); return; }
    if (!r.ok) { flash(problem(r), true); return; }
    $("next-result").textContent = "";
    await openTicket(r.data.id);
    loadWork();
  });
  on("search-form", "submit", async () => {
    const q = $("search").value.trim();
    if (!q) return;
    const r = await api("GET", `/api/v1/customers?q=${encodeURIComponent(q)}&limit=20`);
    if (!r.ok) { flash(problem(r), true); return; }
    listOrEmpty($("search-results"), r.data.items, (c) => el("li", {},
      el("button", {type: "button", class: "link open-customer", "data-id": String(c.id)}, c.name),
      el("span", {class: "muted"}, c.number ? ` · ${c.number}` : "")), "No history yet.");
  });
  on("create-customer", "submit", async () => {
    const phone = $("cc-phone").value.trim(), email = $("cc-email").value.trim();
    const body = {name: $("cc-name").value.trim(), kind: $("cc-kind").value,
                  phones: phone ? [phone] : [], emails: email ? [email] : []};
    const r = await api("POST", "/api/v1/customers", body);
    if (!r.ok) { $("cc-error").textContent = problem(r); $("cc-error").hidden = false; return; }
    $("cc-error").hidden = true;
    flash(S("Customer created."));
    await openCustomer(r.data.id);
  });
  on("phone-ticket", "submit", async () => {
    if (!desk.customerId) return;
    const body = {subject: $("pt-subject").value.trim(), channel: "phone", customer_id: desk.customerId,
                  owner_id: ME.id, body: $("pt-body").value, direction: "in"};
    if (desk.call) body.source_ref = desk.call.id;
    const r = await api("POST", "/api/v1/tickets", body);
    if (!r.ok) { flash(problem(r), true); return; }
    if ($("pt-done").checked) await api("POST", `/api/v1/tickets/${r.data.id}/actions`, {action: "done"});
    $("pt-subject").value = "";
    $("pt-body").value = "";
    $("pt-done").checked = false;
    flash(S("Ticket created."));
    await openCustomer(desk.customerId);
    loadWork();
  });
  on("doc-form", "submit", async () => {
    const file = $("doc-file").files[0];
    if (!file || !desk.customerId) return;
    const form = new FormData();
    form.append("file", file, file.name);
    const resp = await fetch(`/api/v1/customers/${desk.customerId}/documents`, {
      method: "POST", credentials: "same-origin", body: form,
      headers: {"Accept": "application/json", "X-CSRF-Token": CSRF}});
    let data = null;
    try { data = await resp.json(); } catch (e) { data = {message: resp.statusText}; }
    if (!resp.ok) { flash(problem({status: resp.status, data}), true); return; }
    $("doc-file").value = "";
    flash(S("Uploaded."));
    await openCustomer(desk.customerId);
  });
  on("note-form", "submit", async () => {
    const text = $("note-text").value.trim();
    if (!text || !desk.customerId) return;
    const r = await api("POST", `/api/v1/customers/${desk.customerId}/activities`,
                        {kind: $("note-kind").value, text, assignee_id: ME.id});
    if (!r.ok) { flash(problem(r), true); return; }
    $("note-text").value = "";
    await openCustomer(desk.customerId);
  });
  on("reply-form", "submit", async () => {
    if (!desk.ticket) return;
    const body = {text: $("reply-text").value, html: $("reply-html").checked, channel: $("reply-channel").value,
                  recipient: $("reply-to").value.trim(), close: $("reply-close").checked};
    root.dispatchEvent(new CustomEvent("desk:reply-body", {detail: body}));  // salutation, signature, files
    if (body.error) { $("reply-error").textContent = body.error; $("reply-error").hidden = false; return; }
    $("reply-send").disabled = true;  // one click, one reply
    const r = await api("POST", `/desk/tickets/${desk.ticket.id}/reply`, body).finally(() => {
      $("reply-send").disabled = false;
    });
    if (!r.ok) { $("reply-error").textContent = problem(r); $("reply-error").hidden = false; return; }
    $("reply-text").value = "";
    root.dispatchEvent(new CustomEvent("desk:replied", {detail: r.data}));
    flash(S("Sent."));
    await openTicket(desk.ticket.id);
    loadWork();
  });
  on("act-done", "click", () => ticketAction({action: "done"}));
  on("act-note", "click", () => {
    const text = $("reply-text").value.trim();
    if (!text) { $("reply-text").focus(); return; }
    $("reply-text").value = "";
    ticketAction({action: "note", text});
  });
  on("act-resubmit", "click", () => {
    const until = new Date(Date.now() + 86400000).toISOString().slice(0, 19);
    ticketAction({action: "resubmit", until});
  });
  on("act-mine", "click", () => ticketAction({action: "assign", user_id: ME.id}));
  on("act-reopen", "click", () => ticketAction({action: "reopen"}));
  on("ticket-close", "click", () => { desk.ticket = null; showArea($("pop").hidden ? "none" : "pop"); });

  document.addEventListener("click", (ev) => {
    const t = ev.target.closest("button.open-ticket");
    if (t) { openTicket(t.dataset.id); return; }
    const c = ev.target.closest("button.open-customer");
    if (c) openCustomer(c.dataset.id);
  });

  // Single keys act only outside text fields; Esc always closes the dialog.
  const KEYS = {
    a: () => $("btn-answer").click(), h: () => $("btn-hold").click(), x: () => $("btn-hangup").click(),
    t: () => $("transfer-queue").focus(), r: () => $("btn-ready") && $("btn-ready").click(),
    p: () => $("btn-pause") && $("btn-pause").click(), n: () => $("btn-next").click(),
    e: () => $("reply-text").focus(), d: () => $("act-done").click(), o: () => $("act-note").click(),
    "/": () => $("search").focus(), "?": () => $("shortcuts").showModal(),
  };
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && $("shortcuts").open) { $("shortcuts").close(); return; }
    const tag = (ev.target.tagName || "").toLowerCase();
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ["input", "textarea", "select"].includes(tag)) return;
    const fn = KEYS[ev.key];
    if (fn && !(ev.target.disabled)) { ev.preventDefault(); fn(); }
  });

  $("call-state").dataset.idle = $("call-state").textContent;
  $("btn-hold").dataset.hold = $("btn-hold").textContent;
  $("btn-hold").dataset.retrieve = root.dataset.retrieve || "Retrieve";
  renderState();
  renderCall();
  showArea("none");
  setInterval(tick, 1000);
  setInterval(loadWork, 30000);
  loadMe();
  loadWork();
  connect(1000);
})();
