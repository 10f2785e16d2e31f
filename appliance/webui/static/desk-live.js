// Ticket news without a reload (issue 6). The desk socket sends small hints ({kind, ticket_id, mine, queue, from,
// reason, attached}); this script refreshes the agent's list and the universal-queue count, has desk.js append to
// the open ticket, and shows a notice for a customer's message and an alert for an escalation or resubmission.
"use strict";
(function () {
  const root = document.getElementById("desk");
  if (!root) return;
  const STR = JSON.parse(root.dataset.strings || "{}");
  const S = (s) => STR[s] || s;
  const $ = (id) => document.getElementById(id);
  const QUEUE_EVERY_MS = 5000;  // a busy intake nudges every desk: the count follows at most this often
  const MAX_NOTICES = 3;
  let socket = null, listed = [], mine = new Set(), workTimer = null, queueTimer = null, queueAt = 0;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k.startsWith("data-")) node.dataset[k.slice(5)] = v;
      else node.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, (_, k) => (values[k] === undefined ? "" : String(values[k])));
  }

  // The tickets this desk lists: their hints keep coming once they are no longer the agent's (the list drops them).
  function sendList() {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({watch: "list", ids: listed}));
  }

  function renderCount(n) {
    const node = $("queue-count");
    if (!node || typeof n !== "number") return;
    node.dataset.count = String(n);
    node.textContent = n ? fill(S("{n} open in the universal queue"), {n}) : S("Nothing open in the universal queue.");
  }

  function refreshWork(soon) {
    // Own tickets at once (debounced), bare queue nudges at most every QUEUE_EVERY_MS.
    if (soon) {
      clearTimeout(workTimer);
      workTimer = setTimeout(() => root.dispatchEvent(new CustomEvent("desk:refresh-work")), 150);
      return;
    }
    if (queueTimer) return;
    const wait = Math.max(0, queueAt + QUEUE_EVERY_MS - Date.now());
    queueTimer = setTimeout(() => {
      queueTimer = null;
      queueAt = Date.now();
      root.dispatchEvent(new CustomEvent("desk:refresh-work"));
    }, wait);
  }

  function dismiss(node) {
    const next = node.nextElementSibling || node.previousElementSibling;
    const hadFocus = node.contains(document.activeElement);
    node.remove();
    if (hadFocus && next) next.querySelector("button").focus();
  }

  function openButton(id, label) {
    return el("button", {type: "button", class: "link open-ticket", "data-id": String(id)}, label);
  }

  function closeButton() {
    return el("button", {type: "button", class: "link dismiss", "aria-label": S("Dismiss"), title: S("Dismiss")}, "×");
  }

  function notice(d) {
    const box = $("ticket-notices");
    const old = box.querySelector(`[data-ticket="${d.ticket_id}"]`);
    if (old) old.remove();
    const text = d.from ? fill(S(d.kind === "ticket.created" ? "New ticket from {name}" : "New message from {name}"),
                               {name: d.from})
      : fill(S("New message on #{id}"), {id: d.ticket_id});
    box.prepend(el("div", {class: "live-notice", "data-ticket": String(d.ticket_id)},
                   el("span", {}, text), " ", openButton(d.ticket_id, `#${d.ticket_id}`), " ", closeButton()));
    while (box.children.length > MAX_NOTICES) box.lastElementChild.remove();
  }

  function alertFor(d) {
    const box = $("live-alerts");
    const key = `${d.reason}-${d.ticket_id}`;
    if (box.querySelector(`[data-key="${key}"]`)) return;
    const text = fill(S(d.reason === "escalation" ? "SLA escalation {level} on #{id}" : "Resubmission due: #{id}"),
                      {id: d.ticket_id, level: d.escalation_level || ""});
    box.append(el("p", {class: "alert live-alert", "data-key": key, "data-kind": d.reason, role: "alert"},
                  openButton(d.ticket_id, text), " ", closeButton()));
  }

  async function attached(id) {
    // The external lookup attached the customer (D3): say so in the open ticket, with its file one click away.
    const r = await fetch(`/api/v1/tickets/${id}`, {credentials: "same-origin", headers: {Accept: "application/json"}});
    if (!r.ok) return;
    const t = await r.json();
    const meta = $("ticket-meta");
    if (!t.customer_id || $("ticket").dataset.id !== String(id) || meta.dataset.attached === String(t.customer_id)) return;
    meta.dataset.attached = String(t.customer_id);
    $("ticket-timeline").append(el("li", {class: "msg kind-system live-attached"},
      el("span", {class: "tag"}, S("Customer")), " ", S("Customer attached by the external lookup."), " ",
      el("button", {type: "button", class: "link open-customer", "data-id": String(t.customer_id)}, S("Open the file"))));
  }

  function onHint(d) {
    if (d.ticket_id === undefined) { refreshWork(false); return; }  // someone's queue ticket: only the count
    const shown = !$("ticket").hidden && $("ticket").dataset.id === String(d.ticket_id);
    const ours = d.mine || mine.has(d.ticket_id);
    if (ours || d.queue) refreshWork(ours);
    if (shown) root.dispatchEvent(new CustomEvent("desk:ticket-news", {detail: {id: d.ticket_id}}));
    if (shown && d.attached) attached(d.ticket_id);
    if (d.mine && !d.own_doing && (d.kind === "message.received" || d.kind === "ticket.created")) notice(d);
    if (ours && (d.reason === "escalation" || d.reason === "resubmission")) alertFor(d);
  }

  root.addEventListener("desk:socket", (ev) => { socket = ev.detail; sendList(); });
  root.addEventListener("desk:event", (ev) => { if (ev.detail.type === "ticket") onHint(ev.detail.data); });
  root.addEventListener("desk:work", (ev) => {
    const d = ev.detail;
    mine = new Set((d.tickets || []).map((t) => t.id));
    const before = listed.join();
    listed = [...mine].slice(0, 300);
    if (listed.join() !== before) sendList();
    renderCount(d.queue_count);
  });
  document.addEventListener("click", (ev) => {
    const button = ev.target.closest(".live-notice button, .live-alert button");
    if (!button) return;
    const item = button.closest(".live-notice, .live-alert");
    if (button.classList.contains("dismiss")) { dismiss(item); return; }
    if (item.classList.contains("live-notice")) item.remove();  // opened: read (desk.js opens the ticket)
  });
  // "j" opens the newest notice's ticket; Esc on a notice or alert dismisses it.
  document.addEventListener("keydown", (ev) => {
    const tag = (ev.target.tagName || "").toLowerCase();
    if (ev.key === "Escape" && ev.target.closest && ev.target.closest(".live-notice, .live-alert")) {
      dismiss(ev.target.closest(".live-notice, .live-alert"));
      return;
    }
    if (ev.key !== "j" || ev.ctrlKey || ev.metaKey || ev.altKey || ["input", "textarea", "select"].includes(tag)) return;
    if (document.querySelector("dialog[open]")) return;
    const first = $("ticket-notices").querySelector(".open-ticket");
    if (first) { ev.preventDefault(); first.click(); }
  });
})();
