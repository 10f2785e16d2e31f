// "Send as fax" in the desk's ticket view: a dialog queues a cover text and/or a document in the fax outbox;
// the ticket lists its outgoing faxes with their state, pushed over the desk's websocket (`fax.status`) as they
// change. desk.js owns the ticket view and the socket; this script follows the ticket it shows through #ticket's
// data-id and names it to the server (`{"watch": "ticket"}`), which then sends that ticket's fax states.
"use strict";
(function () {
  const root = document.getElementById("desk");
  const dialog = document.getElementById("fax-dialog");
  if (!root || !dialog) return;
  const CSRF = root.dataset.csrf;
  const T = dialog.dataset;
  const MAX_BYTES = 20 * 1024 * 1024;
  const $ = (id) => document.getElementById(id);
  let ticketId = null;
  let prefill = "";
  let items = [];
  let socket = null;
  let running = true;
  let loading = Promise.resolve();  // the ticket's faxes and number, asked for when the ticket opens

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  function stamp(iso) {
    return iso ? new Date(iso).toLocaleString([], {dateStyle: "short", timeStyle: "short"}) : "";
  }

  function stateText(job) {
    const parts = [T[job.state] || job.state];
    if (job.state === "sending") parts.push(`${T.attempt} ${job.attempts}`);
    if (job.progress && job.progress.page) parts.push(`${T.page} ${job.progress.page}/${job.progress.of}`);
    if (job.state === "queued" && job.attempts > 0) {
      parts.push(`${T.retry} ${stamp(job.next_at)}`, job.last_error);
    }
    if (job.state === "sent" || (job.state === "failed" && job.pages.length)) {
      parts.push(`${job.pages_confirmed ?? 0}/${job.pages.length} ${T.confirmed}`);
    }
    if (job.state === "failed" && job.last_error) parts.push(job.last_error);
    return parts.filter(Boolean).join(" · ");
  }

  function render() {
    const list = $("ticket-faxes");
    $("ticket-faxes-box").hidden = items.length === 0;
    list.replaceChildren(...items.map((job) => el("li", {class: `msg dir-out fax-job fax-${job.state}`,
                                                      "data-fax-id": String(job.id)},
      el("span", {class: "tag"}, "fax"), " ",
      el("span", {class: "muted"}, `${job.number} · ${stamp(job.created_at)}`),
      el("div", {class: "fax-state", "data-state": job.state}, stateText(job)),
      el("a", {href: job.report_url}, T.report))));
    if (!running && items.some((j) => j.state === "queued")) {
      list.append(el("li", {class: "field-error"}, T.stopped));
    }
  }

  async function refresh() {
    const id = ticketId;
    if (!id) return;
    const resp = await fetch(`/desk/tickets/${id}/faxes`, {credentials: "same-origin",
                                                          headers: {"Accept": "application/json"}});
    if (id !== ticketId || !resp.ok) return;
    const data = await resp.json();
    prefill = data.number || "";
    running = data.running;
    items = data.items;
    render();
  }

  function watch() {
    // The server pushes this ticket's fax states to this socket only after checking the agent may see it.
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({watch: "ticket", id: ticketId ? Number(ticketId) : null}));
    }
  }

  function pushed(fax) {
    // A fax.status push: replace the fax shown or put a new one on top (newest first, as the list loads).
    const at = items.findIndex((j) => j.id === fax.id);
    if (at >= 0) items[at] = fax; else items.unshift(fax);
    render();
  }

  function follow() {
    const ticket = $("ticket");
    const id = ticket.hidden ? null : ticket.dataset.id || null;
    if (id === ticketId) return;
    ticketId = id;
    items = [];
    $("ticket-faxes").replaceChildren();
    $("ticket-faxes-box").hidden = true;
    watch();
    loading = refresh();
  }

  function showError(text) {
    $("fax-error").textContent = text;
    $("fax-error").hidden = !text;
  }

  async function open() {
    if (!ticketId || dialog.open) return;
    await loading;  // the number to prefill (asked for as the ticket opened): the dialog opens complete
    if (!ticketId || dialog.open) return;
    $("fax-form").reset();
    showError("");
    $("fax-number").value = prefill;
    dialog.showModal();
    (prefill ? $("fax-cover") : $("fax-number")).focus();
  }

  async function submit(ev) {
    ev.preventDefault();
    const file = $("fax-file").files[0];
    if (file && file.size > MAX_BYTES) { showError(T.tooLarge); return; }
    if (!file && !$("fax-cover").value.trim()) { showError(T.nothing); $("fax-cover").focus(); return; }
    $("fax-send").disabled = true;
    try {
      const resp = await fetch(`/desk/tickets/${ticketId}/faxes`, {
        method: "POST", credentials: "same-origin", body: new FormData($("fax-form")),
        headers: {"Accept": "application/json", "X-CSRF-Token": CSRF}});
      let data = {};
      try { data = await resp.json(); } catch (e) { data = {message: resp.statusText}; }
      if (!resp.ok) {
        showError(data.message || String(resp.status));
        if (data.field === "number") $("fax-number").focus();
        return;
      }
      dialog.close();
      await refresh();
      $("ticket-faxes-box").scrollIntoView({block: "nearest"});
    } finally {
      $("fax-send").disabled = false;
    }
  }

  root.addEventListener("desk:socket", (ev) => {
    socket = ev.detail;
    watch();
    if (ticketId) loading = refresh();  // what changed while the socket was away
  });
  root.addEventListener("desk:event", (ev) => {
    const {type, data} = ev.detail;
    if (type === "fax.status" && ticketId && String(data.ticket_id) === ticketId && data.fax) pushed(data.fax);
  });
  new MutationObserver(follow).observe($("ticket"), {attributes: true, attributeFilter: ["data-id", "hidden"]});
  $("act-fax").addEventListener("click", open);
  $("fax-cancel").addEventListener("click", () => dialog.close());
  $("fax-form").addEventListener("submit", submit);
  document.addEventListener("keydown", (ev) => {
    const tag = (ev.target.tagName || "").toLowerCase();
    if (ev.key !== "f" || ev.ctrlKey || ev.metaKey || ev.altKey || ["input", "textarea", "select"].includes(tag)) return;
    if (document.querySelector("dialog[open]") || $("ticket").hidden) return;
    ev.preventDefault();
    open();
  });
  follow();
})();
