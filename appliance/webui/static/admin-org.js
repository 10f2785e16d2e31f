// Keyboard help for the organisation pages: "/" jumps to the search box, Escape leaves it;
// the first field with an error gets the focus after a failed save.
"use strict";
(function () {
  const search = document.querySelector("[data-hotkey='/']");
  document.addEventListener("keydown", (ev) => {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
    if (search && ev.key === "/" && !typing) { ev.preventDefault(); search.focus(); search.select(); }
    if (ev.key === "Escape" && document.activeElement === search) search.blur();
  });
  const bad = document.querySelector("[aria-invalid='true']");
  if (bad) bad.focus();
})();
