// Live refresh of the services page without reloading it, and restart buttons via fetch.
"use strict";
(function () {
  const table = document.getElementById("services");
  if (!table) return;
  const csrf = table.dataset.csrf;
  const STRINGS = JSON.parse(table.dataset.strings || "{}");  // translated by the page (services.html)
  const T = (s) => STRINGS[s] || s;
  const fmtUptime = (s) => s >= 3600 ? `${Math.floor(s / 3600)} h ${Math.floor(s % 3600 / 60)} min`
    : s >= 60 ? `${Math.floor(s / 60)} min ${Math.floor(s % 60)} s` : `${Math.floor(s)} s`;

  async function refresh() {
    try {
      const r = await fetch("/admin/services.json", { headers: { Accept: "application/json" } });
      if (r.status === 401) { location.href = "/login?next=/admin"; return; }
      const data = await r.json();
      for (const s of data.services) {
        const row = table.querySelector(`tr[data-name="${CSS.escape(s.name)}"]`);
        if (!row) continue;
        const st = row.querySelector(".state");
        st.textContent = T(s.state); st.className = `state state-${s.state}`;
        row.querySelector(".restarts").textContent = s.restarts;
        row.querySelector(".uptime").textContent = fmtUptime(s.uptime_s);
        row.querySelector(".err").textContent = s.last_error || "";
      }
      const overall = document.getElementById("overall");
      overall.textContent = data.degraded ? T("Degraded") : T("All running");
      overall.className = `badge ${data.degraded ? "warn" : "ok"}`;
      const m = data.metrics;
      const set = (id, v, unit, d) => { if (v !== undefined) document.getElementById(id).textContent = `${v.toFixed(d)} ${unit}`; };
      set("lag", m["appliance.loop_lag_p99_ms"], "ms", 1);
      set("rss", m["appliance.rss_mb"], "MB", 0);
      set("dbsize", m["appliance.db_mb"], "MB", 1);
      set("disk", m["appliance.disk_free_gb"], "GB", 1);
      document.getElementById("refreshed").textContent = T("updated") + " " + new Date().toLocaleTimeString();
    } catch (e) {
      document.getElementById("refreshed").textContent = T("connection lost, retrying…");
    }
  }

  table.addEventListener("submit", async (ev) => {
    const form = ev.target.closest("form.restart");
    if (!form) return;
    ev.preventDefault();
    const btn = form.querySelector("button");
    btn.disabled = true; btn.textContent = T("Restarting…");
    const r = await fetch(form.action, { method: "POST", headers: { "X-CSRF-Token": csrf, Accept: "application/json" } });
    btn.disabled = false; btn.textContent = r.ok ? T("Restart") : T("Failed");
    refresh();
  });
  const demo = document.getElementById("demo-setup");
  if (demo) demo.addEventListener("click", async () => {
    demo.disabled = true;
    const out = document.getElementById("demo-result");
    const r = await fetch("/admin/demo-setup", { method: "POST", headers: { "X-CSRF-Token": csrf, Accept: "application/json" } });
    const body = await r.json();
    demo.disabled = false;
    out.textContent = !r.ok ? T("failed") : body.agent_password
      ? `${T("Done.")} ${T("Log in as %(agent)s with the one-time password %(password)s (shown once).")
        .replace("%(agent)s", body.agent).replace("%(password)s", body.agent_password)}`
      : body.addresses.length ? T("Done.") : T("Done (it was already set up).");
  });
  setInterval(refresh, 2000);
  refresh();
})();
