// Diagnostics and SNMP pages: a test can take seconds (a server that does not answer), so the pressed
// button says it is working and cannot be pressed twice; the form still posts as usual (works without JS).
"use strict";
(function () {
  for (const form of document.querySelectorAll("form[data-busy]")) {
    form.addEventListener("submit", () => {
      const button = form.querySelector("button[type=submit]");
      if (!button) return;
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      button.textContent = form.dataset.busy;
      const page = document.getElementById("main");
      if (page) page.setAttribute("aria-busy", "true");
    });
  }
})();
