// Survey statistics stay current: new answers reload the figures (not while the filter is being edited).
"use strict";
(function () {
  const form = document.getElementById("survey-filter");
  if (!form || !form.dataset.api) return;
  const REFRESH_MS = 30000;
  setInterval(async () => {
    if (document.hidden || form.contains(document.activeElement)) return;
    const resp = await fetch(form.dataset.api, {credentials: "same-origin", headers: {"Accept": "application/json"}});
    if (!resp.ok) return;
    const data = await resp.json();
    if (String(data.total.answers) !== form.dataset.answers) window.location.reload();
  }, REFRESH_MS);
})();
