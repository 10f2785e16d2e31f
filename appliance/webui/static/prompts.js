// The prompt catalogue (B10): upload, preview, versions, activation now / in a time window / by the queue's
// calendar, which script steps use a prompt, hot prompts. Data through the REST API with the session's CSRF token.
"use strict";
(function () {
  const root = document.getElementById("prompts-page");
  if (!root) return;
  const CSRF = root.dataset.csrf;
  const STR = JSON.parse(root.dataset.strings || "{}");
  const S = (s, values) => (STR[s] || s).replace(/%\((\w+)\)s/g, (_, k) => String((values || {})[k]));
  const $ = (id) => document.getElementById(id);
  let current = null;
  let hotOn = new Set();  // names on for every caller (the catalogue's Hot column)

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k.startsWith("data-")) node.dataset[k.slice(5)] = v; else node.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  async function api(method, url, body) {
    const opts = {method, credentials: "same-origin", headers: {"Accept": "application/json", "X-CSRF-Token": CSRF}};
    if (body instanceof FormData) opts.body = body;
    else if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    const resp = await fetch(url, opts);
    let data = null;
    if (resp.status !== 204) { try { data = await resp.json(); } catch (e) { data = {message: resp.statusText}; } }
    return {ok: resp.ok, status: resp.status, data};
  }

  function problem(r) {
    const d = r.data || {};
    const fields = d.fields ? Object.entries(d.fields).map(([k, v]) => `${k}: ${v}`).join("; ") : "";
    return `${S("Error")}: ${d.message || d.error || r.status}${fields ? " (" + fields + ")" : ""}`;
  }

  function show(id, text) { const n = $(id); n.textContent = text || ""; n.hidden = !text; }

  function flash(text) {
    show("prompt-flash", text);
    clearTimeout(flash.timer);
    flash.timer = setTimeout(() => show("prompt-flash", ""), 5000);
  }

  async function loadList() {
    const r = await api("GET", "/api/v1/acd/prompts");
    const body = $("prompt-list").querySelector("tbody");
    body.textContent = "";
    if (!r.ok) { body.append(el("tr", {}, el("td", {colspan: "4", class: "empty"}, problem(r)))); return; }
    const hot = r.data.hot || [];
    hotOn = new Set(hot.filter((h) => !h.language).map((h) => h.name));
    renderHot(hot, r.data.items);
    if (!r.data.items.length) {
      body.append(el("tr", {}, el("td", {colspan: "4", class: "empty"}, S("No prompts yet. Upload the first one above."))));
      return;
    }
    for (const p of r.data.items) {
      const open = el("button", {type: "button", class: "link", "data-id": String(p.id)}, p.name);
      open.addEventListener("click", () => openPrompt(p.id));
      const hot = el("button", {type: "button", class: "link hot", "aria-pressed": String(hotOn.has(p.name))},
                     hotOn.has(p.name) ? S("Hot prompt on") : S("Hot prompt off"));
      hot.addEventListener("click", async () => {
        const res = await api("POST", "/api/v1/acd/prompts/hot", {name: p.name, on: !hotOn.has(p.name)});
        if (!res.ok) { flash(problem(res)); return; }
        await loadList();
      });
      body.append(el("tr", {"data-prompt": p.name}, el("td", {class: "name"}, open), el("td", {}, p.language),
                     el("td", {class: "num"}, p.active_version ? String(p.active_version) : "–"), el("td", {}, hot)));
    }
  }

  async function switchHot(name, language, on) {
    const res = await api("POST", "/api/v1/acd/prompts/hot", {name, language, on});
    if (!res.ok) { show("hot-error", problem(res)); return false; }
    show("hot-error", "");
    flash(on ? S("Switched on.") : S("Switched off."));
    await loadList();
    return true;
  }

  // Every hot prompt that is on, with whom it plays to; each with its own off button.
  function renderHot(hot, items) {
    const list = $("hot-list");
    list.textContent = "";
    if (!hot.length) list.append(el("li", {class: "empty muted"}, S("No hot prompt is switched on.")));
    for (const h of hot) {
      const off = el("button", {type: "button", class: "link"}, S("Switch off"));
      off.addEventListener("click", () => switchHot(h.name, h.language, false));
      list.append(el("li", {"data-hot": `${h.name}/${h.language}`}, el("strong", {}, h.name), " · ",
                     h.language ? S("language %(l)s", {l: h.language}) : S("every caller"), " ", off));
    }
    const names = $("hot-names");
    names.textContent = "";
    for (const name of new Set(items.map((p) => p.name))) names.append(el("option", {value: name}));
  }

  $("hot-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = e.target;
    if (!form.reportValidity()) return;
    if (await switchHot($("hot-name").value.trim(), $("hot-language").value.trim(), true)) form.reset();
  });

  function when(iso) { return iso ? iso.replace("T", " ").slice(0, 16) + " UTC" : ""; }

  function ruleText(rule) {
    const parts = [S(rule.kind), S("version %(v)s", {v: rule.version})];
    if (rule.starts_at) parts.push(S("from %(a)s", {a: when(rule.starts_at)}));
    if (rule.ends_at) parts.push(S("until %(b)s", {b: when(rule.ends_at)}));
    return parts.join(" · ");
  }

  async function openPrompt(id) {
    const r = await api("GET", `/api/v1/acd/prompts/${id}`);
    if (!r.ok) { flash(problem(r)); return; }
    const p = current = r.data;
    $("prompt-detail").hidden = false;
    $("pd-title").textContent = `${p.name} (${p.language})`;
    $("pd-now").textContent = p.now.version ? `${S("plays now")}: ${S("version %(v)s", {v: p.now.version})} (${S(p.now.reason)})` : "";
    const versions = $("pd-versions");
    versions.textContent = "";
    const select = $("pr-version");
    select.textContent = "";
    for (const v of p.versions) {
      const li = el("li", {"data-version": String(v.version)}, S("version %(v)s", {v: v.version}), ` · ${when(v.created_at)} `,
                    v.active ? el("strong", {}, S("active")) : null,
                    el("audio", {controls: "", preload: "none", src: v.audio_url, class: "voice",
                                 "aria-label": S("version %(v)s", {v: v.version})}));
      if (!v.active) {
        const btn = el("button", {type: "button", class: "activate"}, S("Activate"));
        btn.addEventListener("click", async () => {
          const res = await api("POST", `/api/v1/acd/prompts/${p.id}/activate`, {version: v.version});
          if (!res.ok) { show("pd-error", problem(res)); return; }
          flash(S("Saved."));
          await openPrompt(p.id);
          await loadList();
        });
        li.append(" ", btn);
      }
      versions.append(li);
      select.append(el("option", {value: String(v.version)}, S("version %(v)s", {v: v.version})));
    }
    if (!p.versions.length) versions.append(el("li", {class: "muted"}, S("No versions.")));
    const rules = $("pd-rules");
    rules.textContent = "";
    for (const rule of p.rules) {
      const del = el("button", {type: "button", class: "link"}, S("Delete rule"));
      del.addEventListener("click", async () => {
        const res = await api("DELETE", `/api/v1/acd/prompts/${p.id}/rules/${rule.id}`);
        if (!res.ok) { show("pd-error", problem(res)); return; }
        await openPrompt(p.id);
      });
      rules.append(el("li", {"data-rule": String(rule.id)}, ruleText(rule), " ", del));
    }
    if (!p.rules.length) rules.append(el("li", {class: "muted"}, S("No rules: the active version plays.")));
    const uses = $("pd-uses");
    uses.textContent = "";
    for (const u of p.uses) {
      uses.append(el("li", {}, u.version
        ? S("queue %(q)s, script version %(v)s, line %(l)s (%(s)s)", {q: u.queue, v: u.version, l: u.line, s: u.statement})
        : S("queue %(q)s (running), line %(l)s (%(s)s)", {q: u.queue, l: u.line, s: u.statement})));
    }
    if (!p.uses.length) uses.append(el("li", {class: "muted"}, S("Not used by any script.")));
    show("pd-error", "");
    show("pr-error", "");
    $("prompt-detail").scrollIntoView({block: "nearest"});
  }

  $("prompt-upload").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = new FormData(ev.target);
    const r = await api("POST", "/api/v1/acd/prompts", form);
    if (!r.ok) { show("pu-error", problem(r)); return; }
    show("pu-error", "");
    ev.target.reset();
    flash(S("Uploaded as version %(v)s.", {v: r.data.version}));
    await loadList();
    await openPrompt(r.data.id);
  });

  $("pd-rule").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!current) return;
    const kind = $("pr-kind").value;
    const body = {kind, version: Number($("pr-version").value)};
    if (kind === "scheduled") {
      if ($("pr-starts").value) body.starts_at = $("pr-starts").value + "Z";
      if ($("pr-ends").value) body.ends_at = $("pr-ends").value + "Z";
    }
    const r = await api("POST", `/api/v1/acd/prompts/${current.id}/rules`, body);
    if (!r.ok) { show("pr-error", problem(r)); return; }
    flash(S("Saved."));
    await openPrompt(current.id);
  });

  $("pr-kind").addEventListener("change", () => {
    const scheduled = $("pr-kind").value === "scheduled";
    $("pr-starts").disabled = $("pr-ends").disabled = !scheduled;
  });

  $("pd-delete").addEventListener("click", async () => {
    if (!current || !window.confirm(S("Really delete this prompt and all its versions?"))) return;
    const r = await api("DELETE", `/api/v1/acd/prompts/${current.id}`);
    if (!r.ok) { show("pd-error", problem(r)); return; }
    $("prompt-detail").hidden = true;
    current = null;
    flash(S("Prompt deleted."));
    await loadList();
  });

  loadList();
})();
