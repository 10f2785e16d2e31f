// Admin fax page: the emulated test fax button (no page reload).
"use strict";
(function () {
  const form = document.getElementById("send-in");
  if (!form) return;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const out = document.getElementById("send-in-result");
    out.textContent = "dialling…";
    const r = await fetch("/api/v1/fax/emulator/send-in", { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": form.dataset.csrf },
      body: JSON.stringify({ text: form.elements.text.value }) });
    const body = await r.json();
    out.textContent = r.ok ? (body.ok ? `sent: ${body.pages_confirmed} page(s) confirmed` : `failed: ${body.reason}`) : (body.message || "failed");
  });
})();
