// The desk's reply editor: text blocks (#shortcut + Tab, or the picker on Ctrl+Space / "b"), templates that fill
// salutation, body and signature (the mailbox's default when a ticket opens), and files attached to e-mail
// replies. desk.js owns the form's sending; it asks us for the extra fields through the "desk:reply-body" event.
"use strict";
(function () {
  const root = document.getElementById("desk");
  const form = document.getElementById("reply-form");
  if (!root || !form) return;
  const CSRF = root.dataset.csrf;
  const $ = (id) => document.getElementById(id);
  const T = form.dataset;  // translated strings rendered into data-* attributes (no inline script under the CSP)
  const VIS = {personal: T.visPersonal, team: T.visTeam, tenant: T.visTenant};
  const newKey = () => `desk-reply-${crypto.randomUUID()}`;  // one per draft: a repeated send is not a second mail
  const state = {ticketId: null, options: null, files: [], pickerAt: null, selected: 0, key: newKey(), signature: null};

  async function call(method, url, body) {
    const opts = {method, credentials: "same-origin", headers: {"Accept": "application/json", "X-CSRF-Token": CSRF}};
    if (body instanceof FormData) opts.body = body;
    else if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    const resp = await fetch(url, opts);
    let data = null;
    try { data = await resp.json(); } catch (e) { data = {message: resp.statusText}; }
    return {ok: resp.ok, status: resp.status, data};
  }

  function problem(r) {
    const d = r.data || {};
    const fields = d.fields ? Object.entries(d.fields).map(([k, v]) => `${k}: ${v}`).join("; ") : "";
    return `${d.message || d.error || r.status}${fields ? " (" + fields + ")" : ""}`;
  }

  function showError(text) {
    const p = $("reply-error");
    p.textContent = text;
    p.hidden = !text;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  function size(n) {
    return n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : n >= 1024 ? `${Math.round(n / 1024)} kB` : `${n} B`;
  }

  // ------------------------------------------------------------------------------------- inserting
  function escapeHtml(s) {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  function insertAt(start, end, rendered) {
    const area = $("reply-text");
    const html = $("reply-html").checked;
    const piece = html ? (rendered.html || escapeHtml(rendered.text).replace(/\n/g, "<br>\n")) : rendered.text;
    area.setRangeText(piece, start, end, "end");
    area.dispatchEvent(new Event("input", {bubbles: true}));
    area.focus();
  }

  async function renderBlock(id) {
    const r = await call("POST", `/api/v1/text-blocks/${id}/render`, {ticket_id: state.ticketId});
    if (!r.ok) { showError(problem(r)); return null; }
    return r.data;
  }

  // #shortcut + Tab expands inline; without a known shortcut Tab moves on as usual.
  $("reply-text").addEventListener("keydown", async (ev) => {
    if (ev.key === " " && ev.ctrlKey) { ev.preventDefault(); openPicker(); return; }
    if (ev.key !== "Tab" || ev.shiftKey || ev.ctrlKey || ev.altKey || !state.options) return;
    const area = ev.target;
    const before = area.value.slice(0, area.selectionStart);
    const m = before.match(/#([\p{L}\p{N}_.-]{1,40})$/u);
    const id = m && state.options.shortcuts[m[1]];
    const block = id && state.options.blocks.find((b) => b.id === id);
    if (!block || !channelFits(block)) return;  // not for this channel: Tab moves on as usual
    ev.preventDefault();
    const start = area.selectionStart - m[0].length, end = area.selectionStart;
    const rendered = await renderBlock(id);
    if (rendered) { showError(""); insertAt(start, end, rendered); }
  });

  // ----------------------------------------------------------------------------------------- picker
  function channelFits(item) {
    const channel = $("reply-channel").value;
    return !item.channels.length || item.channels.includes(channel);
  }

  function visibleBlocks() {
    const q = $("block-search").value.trim().toLowerCase();
    return (state.options ? state.options.blocks : []).filter(channelFits).filter((b) =>
      !q || [b.title, b.shortcut, b.category].some((s) => (s || "").toLowerCase().includes(q)));
  }

  function renderPicker() {
    const list = $("block-list");
    list.textContent = "";
    const blocks = visibleBlocks();
    state.selected = Math.min(state.selected, Math.max(0, blocks.length - 1));
    blocks.forEach((b, i) => {
      const li = el("li", {role: "option", "data-id": String(b.id), "aria-selected": String(i === state.selected),
                           class: i === state.selected ? "selected" : ""},
                    el("strong", {}, b.title), " ", el("code", {}, `#${b.shortcut}`),
                    el("span", {class: "muted"}, ` · ${[b.category, b.language, VIS[b.visibility]]
                                                        .filter(Boolean).join(" · ")}`));
      list.append(li);
    });
    $("block-empty").hidden = blocks.length > 0;
    const current = list.querySelector("li.selected");
    if (current) current.scrollIntoView({block: "nearest"});
  }

  function openPicker() {
    if (!state.ticketId) return;
    const area = $("reply-text");
    state.pickerAt = [area.selectionStart, area.selectionEnd];
    state.selected = 0;
    $("block-search").value = "";
    renderPicker();
    $("block-picker").showModal();
    $("block-search").focus();
  }

  async function choose(id) {
    $("block-picker").close();
    const rendered = await renderBlock(id);
    if (!rendered) return;
    showError("");
    const [start, end] = state.pickerAt || [$("reply-text").selectionStart, $("reply-text").selectionEnd];
    insertAt(start, end, rendered);
  }

  $("block-search").addEventListener("input", () => { state.selected = 0; renderPicker(); });
  $("block-search").addEventListener("keydown", (ev) => {
    const blocks = visibleBlocks();
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      state.selected = (state.selected + (ev.key === "ArrowDown" ? 1 : -1) + blocks.length) % Math.max(1, blocks.length);
      renderPicker();
    } else if (ev.key === "Enter") {
      ev.preventDefault();
      if (blocks[state.selected]) choose(blocks[state.selected].id);
    }
  });
  $("block-list").addEventListener("click", (ev) => {
    const li = ev.target.closest("li[data-id]");
    if (li) choose(Number(li.dataset.id));
  });
  $("block-picker").addEventListener("close", () => $("reply-text").focus());
  $("reply-blocks").addEventListener("click", openPicker);
  // "b" outside text fields opens the picker too (desk.js ignores keys it does not know).
  document.addEventListener("keydown", (ev) => {
    const tag = (ev.target.tagName || "").toLowerCase();
    if (ev.key !== "b" || ev.ctrlKey || ev.metaKey || ev.altKey || ["input", "textarea", "select"].includes(tag)) return;
    if ($("ticket").hidden || document.querySelector("dialog[open]")) return;
    ev.preventDefault();
    $("reply-text").focus();
    openPicker();
  });

  // -------------------------------------------------------------------------------------- templates
  function fillTemplate(t) {
    $("reply-salutation").value = t.salutation || "";
    $("reply-signature").value = t.signature || "";
    // The template's signature with its pictures (E4), sent with an HTML reply while the text is left as it came.
    state.signature = {text: t.signature || "", html: t.signature_html || ""};
    const html = $("reply-html").checked;
    $("reply-text").value = html ? (t.html || escapeHtml(t.text || "").replace(/\n/g, "<br>\n")) : (t.text || "");
    $("reply-template").value = String(t.id);
  }

  $("reply-template").addEventListener("change", async () => {
    const id = $("reply-template").value;
    if (!id) { $("reply-salutation").value = ""; $("reply-signature").value = ""; state.signature = null; return; }
    const r = await call("POST", `/api/v1/reply-templates/${id}/render`, {ticket_id: state.ticketId});
    if (!r.ok) { showError(problem(r)); return; }
    showError("");
    fillTemplate(r.data);
  });

  // The templates made for the chosen channel (E5: templates for every channel).
  function fillTemplates() {
    const select = $("reply-template");
    const chosen = select.value;
    select.textContent = "";
    select.append(el("option", {value: ""}, T.noTemplate));
    for (const t of (state.options ? state.options.templates : []).filter(channelFits)) {
      select.append(el("option", {value: String(t.id)}, t.language ? `${t.name} (${t.language})` : t.name));
    }
    select.value = select.querySelector(`option[value="${chosen}"]`) ? chosen : "";
  }
  $("reply-channel").addEventListener("change", fillTemplates);

  async function loadOptions(ticketId) {
    const r = await call("GET", `/api/v1/tickets/${ticketId}/reply-options`);
    if (state.ticketId !== ticketId) return;  // another ticket was opened meanwhile
    state.options = r.ok ? r.data : {blocks: [], shortcuts: {}, templates: [], default_template: null};
    fillTemplates();
    $("reply-options").dataset.blocks = String(state.options.blocks.length);
    const d = state.options.default_template;
    if (d && !$("reply-text").value.trim()) fillTemplate(d);
  }

  // ------------------------------------------------------------------------------------ attachments
  function renderFiles() {
    const ul = $("reply-files");
    ul.textContent = "";
    for (const f of state.files) {
      const remove = el("button", {type: "button", class: "link", "data-remove": String(f.id),
                                   "aria-label": `${T.remove} ${f.filename}`}, T.remove);
      ul.append(el("li", {"data-id": String(f.id)}, f.filename, el("span", {class: "muted"}, ` · ${size(f.size)} `), remove));
    }
  }

  $("reply-file").addEventListener("change", async (ev) => {
    const input = ev.target;
    for (const file of Array.from(input.files)) {
      const data = new FormData();
      data.append("file", file, file.name);
      $("reply-upload-state").textContent = `${T.uploading} ${file.name}`;
      const r = await call("POST", `/desk/tickets/${state.ticketId}/attachments`, data);
      if (!r.ok) { showError(`${file.name}: ${problem(r)}`); continue; }
      state.files.push(r.data);
      renderFiles();
    }
    $("reply-upload-state").textContent = "";
    input.value = "";
  });
  $("reply-files").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-remove]");
    if (!b) return;
    state.files = state.files.filter((f) => String(f.id) !== b.dataset.remove);
    renderFiles();
  });

  // ---------------------------------------------------------------------------------- desk.js hooks
  root.addEventListener("desk:ticket", (ev) => {
    const id = ev.detail.id;
    if (state.ticketId !== id) {
      state.ticketId = id;
      state.key = newKey();
      state.files = [];
      renderFiles();
      $("reply-salutation").value = "";
      $("reply-signature").value = "";
      state.signature = null;
    state.signature = null;
      $("reply-text").value = "";
      loadOptions(id);
    }
    showAttachments(id);
  });

  root.addEventListener("desk:reply-body", (ev) => {
    const body = ev.detail;
    const salutation = $("reply-salutation").value.trim(), signature = $("reply-signature").value.trim();
    if (body.channel === "mail") {
      body.idempotency_key = state.key;
      body.salutation = salutation;
      body.signature = signature || null;  // empty: the mailbox's signature
      if (body.html && state.signature && state.signature.html && signature === state.signature.text.trim()) {
        body.signature_html = state.signature.html;
      }
      body.attachment_ids = state.files.map((f) => f.id);
    } else {
      if (state.files.length) { body.error = T.mailOnly; return; }
      const sep = body.html ? "<br><br>\n" : "\n\n";
      body.text = [salutation, body.text, signature].filter(Boolean).join(sep);
    }
  });

  root.addEventListener("desk:replied", () => {
    state.key = newKey();
    state.files = [];
    renderFiles();
    $("reply-salutation").value = "";
    $("reply-signature").value = "";
    state.signature = null;
    $("reply-template").value = "";
  });

  async function showAttachments(ticketId) {
    const r = await call("GET", `/desk/tickets/${ticketId}/attachments`);
    if (!r.ok || state.ticketId !== ticketId) return;
    for (const [messageId, files] of Object.entries(r.data.messages)) {
      const li = document.querySelector(`#ticket-timeline li[data-id="${messageId}"]`);
      if (!li || li.querySelector(".msg-files")) continue;
      const ul = el("ul", {class: "msg-files", "aria-label": T.attachments});
      for (const f of files) {
        ul.append(el("li", {}, el("a", {href: `/desk/tickets/${ticketId}/documents/${f.digest}`, download: f.filename},
                                  f.filename), el("span", {class: "muted"}, ` · ${size(f.size)}`)));
      }
      li.append(ul);
    }
  }
})();
