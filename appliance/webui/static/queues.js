// Queue script editor (B8): line numbers, validation problems beside their line, save / put live.
"use strict";
(function () {
  const page = document.getElementById("script-page");
  if (!page) return;
  const key = page.dataset.key, csrf = page.dataset.csrf;
  const text = document.getElementById("script-text");
  const gutter = document.getElementById("gutter");
  const side = document.getElementById("line-problems");
  const status = document.getElementById("script-status");
  const versions = JSON.parse(page.dataset.versions || "[]");
  let problems = [];

  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, (_, k) => String(values[k]));
  }

  function render() {
    const lines = text.value.split("\n");
    const byLine = new Map();
    for (const p of problems) {
      byLine.set(p.line, (byLine.has(p.line) ? byLine.get(p.line) + "; " : "") + p.message);
    }
    gutter.textContent = "";
    side.textContent = "";
    lines.forEach((_, i) => {
      const n = i + 1;
      const num = document.createElement("span");
      num.textContent = String(n);
      const msg = document.createElement("span");
      msg.textContent = byLine.get(n) || " ";
      if (byLine.has(n)) {
        num.className = "bad";
        msg.className = "problem";
        msg.dataset.line = String(n);
      }
      gutter.append(num, "\n");
      side.append(msg, "\n");
    });
    // Problems beyond the last line (an unterminated block) are shown on the last line.
    for (const [n, m] of byLine) {
      if (n > lines.length) {
        const msg = document.createElement("span");
        msg.className = "problem";
        msg.dataset.line = String(n);
        msg.textContent = m;
        side.append(msg, "\n");
      }
    }
    syncScroll();
  }

  function syncScroll() {
    gutter.scrollTop = text.scrollTop;
    side.scrollTop = text.scrollTop;
  }

  async function post(url, body) {
    const resp = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json"},
      body: JSON.stringify(body),
    });
    let data = {};
    try { data = await resp.json(); } catch (e) { data = {message: resp.statusText}; }
    return {status: resp.status, data};
  }

  async function check() {
    const {data} = await post(`/admin/queues/${encodeURIComponent(key)}/script/check`, {text: text.value});
    problems = data.problems || [];
    status.textContent = problems.length ? page.dataset.msgInvalid : "✓";
    status.className = problems.length ? "error" : "muted";
    render();
  }

  async function save(activate) {
    const {status: code, data} = await post(`/api/v1/acd/queues/${encodeURIComponent(key)}/script`,
                                            {text: text.value, activate});
    if (code === 201) {
      problems = [];
      status.className = "notice";
      status.textContent = fmt(activate ? page.dataset.msgLive : page.dataset.msgSaved, {v: data.version});
      if (activate) document.getElementById("live-version").textContent = `v${data.version}`;
    } else if (code === 400 && data.problems) {
      problems = data.problems;
      status.className = "error";
      status.textContent = page.dataset.msgInvalid;
    } else {
      status.className = "error";
      status.textContent = fmt(page.dataset.msgError, {e: data.message || code});
    }
    render();
  }

  text.addEventListener("input", () => { problems = []; render(); });
  text.addEventListener("scroll", syncScroll);
  text.addEventListener("keydown", (ev) => {
    if (ev.key === "Tab") {  // indentation matters in the script language: Tab inserts four spaces
      ev.preventDefault();
      const start = text.selectionStart;
      text.setRangeText("    ", start, text.selectionEnd, "end");
      render();
    } else if ((ev.ctrlKey || ev.metaKey) && ev.key === "s") {
      ev.preventDefault();
      save(false);
    }
  });
  document.getElementById("check").addEventListener("click", check);
  document.getElementById("save").addEventListener("click", () => save(false));
  document.getElementById("activate").addEventListener("click", () => save(true));
  document.getElementById("versions").addEventListener("click", (ev) => {
    const btn = ev.target.closest("button.load");
    if (!btn) return;
    const v = versions.find((x) => String(x.version) === btn.dataset.version);
    if (v) { text.value = v.text; problems = []; render(); }
  });
  render();
})();
