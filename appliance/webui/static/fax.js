// Admin fax page: the emulated test fax button (no page reload).
"use strict";
(function () {
  const form = document.getElementById("send-in");
  if (!form) return;
  const STRINGS = JSON.parse(form.dataset.strings || "{}");  // translated by the page (admin/fax.html)
  const T = (s) => STRINGS[s] || s;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const out = document.getElementById("send-in-result");
    out.textContent = T("dialling…");
    const r = await fetch("/api/v1/fax/emulator/send-in", { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": form.dataset.csrf },
      body: JSON.stringify({ text: form.elements.text.value }) });
    const body = await r.json();
    out.textContent = r.ok ? (body.ok ? T("sent: %(n)s page(s) confirmed").replace("%(n)s", body.pages_confirmed)
      : `${T("failed")}: ${body.reason}`) : (body.message || T("failed"));
  });
})();
