// The text block / reply template editor: the preview follows the typing (rendered by the appliance against
// the sample ticket, so it shows exactly what the variables and the HTML cleaner make of the text).
"use strict";
(function () {
  const form = document.getElementById("content-form");
  if (!form) return;
  const $ = (id) => document.getElementById(id);
  const FIELDS = ["salutation", "body_text", "body_html", "signature"];
  let timer = null, seq = 0;

  async function refresh() {
    const body = {};
    for (const name of FIELDS) {
      const input = form.elements.namedItem(name);
      if (input) body[name] = input.value;
    }
    const ticket = $("preview-ticket").value.trim();
    if (/^\d+$/.test(ticket)) body.ticket_id = Number(ticket);
    const mine = ++seq;
    const resp = await fetch("/api/v1/text-blocks/preview", {
      method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": form.dataset.csrf}});
    let data = {};
    try { data = await resp.json(); } catch (e) { data = {message: resp.statusText}; }
    if (mine !== seq) return;  // a newer keystroke's answer wins
    const problem = $("preview-problem");
    if (!resp.ok) {
      const fields = data.fields ? Object.entries(data.fields).map(([k, v]) => `${k}: ${v}`).join(" ") : "";
      problem.textContent = fields || data.message || String(resp.status);
      problem.hidden = false;
      return;
    }
    problem.hidden = true;
    if ($("preview-salutation")) $("preview-salutation").textContent = data.salutation;
    if ($("preview-signature")) $("preview-signature").textContent = data.signature;
    $("preview-text").textContent = form.elements.namedItem("body_text").value.trim() ? data.text : "";
    $("preview-html").innerHTML = data.html;  // nh3-cleaned by the appliance: formatting and safe links only
  }

  function later(ev) {
    if (!ev.target.classList.contains("watched")) return;
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  }
  form.addEventListener("input", later);
  $("preview-ticket").addEventListener("input", later);
})();
