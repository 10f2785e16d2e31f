// Wallboard: renders the ACD snapshot pushed over the websocket (one per tab); reconnects by itself.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
  const fmt = (s) => s == null ? "–" : s >= 60 ? `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}` : `${Math.round(s)} s`;
  const pct = (v) => v == null ? "–" : `${Math.round(v * 100)}%`;
  const colour = { ready: "ready", busy: "busy", reserved: "busy", wrap_up: "wrap_up", paused: "paused" };
  // Every word shown comes translated from the page (routes_live.WALLBOARD_STRINGS); the source text otherwise.
  const STRINGS = JSON.parse($("wallboard-head").dataset.strings || "{}");
  const T = (s) => STRINGS[s] || s;
  const stateWord = { ready: "free", busy: "busy", reserved: "ringing", wrap_up: "wrap-up", paused: "paused" };

  function kpi(label, value, cls) { const d = el("div", "kpi " + (cls || "")); d.append(el("span", "v", value), el("span", "l", label)); return d; }

  function renderQueues(snap) {
    const root = $("queues"); root.replaceChildren();
    if (!snap.queues.length) { root.append(el("p", "empty", T("No queues are configured for you yet."))); return; }
    for (const q of snap.queues) {
      const card = el("article", "queue"); card.dataset.queue = q.id;
      const head = el("header"); head.append(el("h2", null, q.name), el("span", "count", `${q.waiting.length} ${T("waiting")}`));
      card.append(head);
      const sl = q.today.service_level;
      const slCls = sl == null ? "" : sl >= q.sl_goal ? "good" : "bad";
      const today = el("div", "kpis");
      today.append(kpi(T("offered"), q.today.offered), kpi(T("answered"), q.today.answered), kpi(T("abandoned"), q.today.abandoned),
        kpi(`${T("SL")}\u00a0${q.sl_target_s}\u00a0s`, pct(sl), slCls), kpi(T("avg wait"), fmt(q.today.asa)), kpi(T("longest"), fmt(q.longest_wait_s)));
      const recent = el("div", "kpis recent"); const r = q.last_15_min;
      recent.append(kpi(T("offered"), r.offered), kpi(T("answered"), r.answered), kpi(T("abandoned"), r.abandoned),
        kpi(T("SL"), pct(r.service_level)), kpi(T("avg wait"), fmt(r.avg_wait_s)), kpi(T("longest"), fmt(r.longest_wait_s)));
      card.append(el("h3", null, T("Today")), today, el("h3", null, T("Last 15 min")), recent);
      const list = el("ol", "waiting");
      for (const c of q.waiting) {
        const li = el("li", c.wait_s > q.sl_target_s ? "late" : "");
        li.append(el("span", "wait", fmt(c.wait_s)), el("span", "caller", c.caller || T("unknown")), el("span", "digits", c.digits ? `#${c.digits}` : ""));
        if (c.callback) li.append(el("span", "tag", T("callback")));
        list.append(li);
      }
      if (!q.waiting.length) list.append(el("li", "none", T("nobody waiting")));
      card.append(list);
      root.append(card);
    }
  }

  function renderAgents(snap) {
    const root = $("agents"); root.replaceChildren();
    if (!snap.agents.length) { root.append(el("p", "empty", T("No agent is logged in."))); return; }
    for (const a of snap.agents) {
      const d = el("div", `agent ${colour[a.state] || ""}`);
      const word = T(stateWord[a.state] || a.state);
      d.title = `${a.name} · ${T("ext.")} ${a.extension} · ${word}${a.reason ? " (" + a.reason + ")" : ""}`;
      d.append(el("span", "name", a.name), el("span", "state", a.reason || word), el("span", "since", fmt(a.since_s)));
      root.append(d);
    }
  }

  function addDecision(d) {
    const body = document.querySelector("#decisions tbody"); if (!body) return;
    const tr = el("tr");
    const picked = d.offers.map((o) => o.agent_id).join(", ") || d.target || "–";
    const cands = d.candidates.slice(0, 6).map((c) => `${c.id}${c.picked ? "✔" : ""} (${c.score.map((s) => Math.round(s * 10) / 10).join("/")})`).join(" · ");
    tr.append(el("td", null, new Date(d.at_wall * 1000).toLocaleTimeString()), el("td", null, d.call_id), el("td", null, d.queue_id),
      el("td", null, d.rule.replace(/_/g, " ")), el("td", null, picked), el("td", "cands", cands));
    body.prepend(tr);
    while (body.rows.length > 30) body.deleteRow(-1);
  }

  let backoff = 500;
  function connect() {
    const ws = new WebSocket(`wss://${location.host}/ws`);
    ws.onopen = () => { $("link").textContent = T("live"); $("link").className = "badge ok"; backoff = 500; };
    ws.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      if (msg.type === "snapshot") { renderQueues(msg.data); renderAgents(msg.data); $("demo").hidden = !msg.data.demo; }
      else if (msg.type === "decision") addDecision(msg.data);
    };
    ws.onclose = () => { $("link").textContent = T("reconnecting…"); $("link").className = "badge warn"; setTimeout(connect, backoff); backoff = Math.min(backoff * 2, 10000); };
  }
  connect();
})();
