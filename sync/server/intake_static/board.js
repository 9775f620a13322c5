// The CRC intake board: refresh the list every few seconds, post actions without leaving the
// page, keep the keyboard where it was, and announce units as they appear. The page works
// without this script (plain forms); this only makes it live.
"use strict";

(function () {
  const rows = document.getElementById("rows");
  if (!rows) return;  // the sign-in page
  const csrf = document.querySelector('meta[name="intake-csrf"]').content;
  const problem = document.getElementById("problem");
  const announce = document.getElementById("announce");
  const every = Number(rows.dataset.refreshSeconds || 5) * 1000;
  let known = states();

  function states() {
    const found = new Map();
    rows.querySelectorAll("article.notice").forEach(function (a) {
      found.set(a.id, a.dataset.state);
    });
    return found;
  }

  function describe(article) {
    const title = article.querySelector("h3");
    return title ? title.textContent.replace(/\s+/g, " ").trim() : "";
  }

  async function refresh() {
    let answer;
    try {
      answer = await fetch("/intake/rows", {credentials: "same-origin", cache: "no-store"});
    } catch (e) {
      problem.textContent = "The board cannot reach the server; it keeps trying.";
      return;
    }
    if (answer.status === 401) {
      window.location.assign("/intake/sign-in");
      return;
    }
    if (!answer.ok) return;
    const html = await answer.text();
    if (problem.dataset.network) { problem.textContent = ""; delete problem.dataset.network; }
    if (html === rows.innerHTML) return;
    const focused = document.activeElement && rows.contains(document.activeElement)
      ? document.activeElement.id : null;
    rows.innerHTML = html;
    const now = states();
    const news = [];
    now.forEach(function (state, id) {
      if (known.get(id) !== state && (state === "incoming" || state === "cancelled")) {
        news.push(describe(document.getElementById(id)));
      }
    });
    known = now;
    if (news.length) announce.textContent = news.join(". ");
    if (focused) {
      const again = document.getElementById(focused);
      if (again) again.focus();
    }
  }

  // Actions: post the form, then refresh and put the keyboard on what comes next.
  document.addEventListener("submit", async function (event) {
    const form = event.target;
    if (!rows.contains(form) && !form.classList.contains("status-form")) return;
    event.preventDefault();
    const button = form.querySelector("button");
    const article = form.closest("article");
    button.disabled = true;
    let answer;
    try {
      answer = await fetch(form.action, {
        method: "POST", credentials: "same-origin",
        headers: {"X-Requested-With": "intake-board", "X-CSRF-Token": csrf,
                  "Content-Type": "application/x-www-form-urlencoded"},
        body: new URLSearchParams(new FormData(form)).toString()});
    } catch (e) {
      button.disabled = false;
      problem.textContent = "Not sent: the server cannot be reached. Try again.";
      return;
    }
    if (answer.status === 401) { window.location.assign("/intake/sign-in"); return; }
    if (!answer.ok) {
      button.disabled = false;
      problem.textContent = await answer.text();
      button.focus();
      return;
    }
    problem.textContent = "";
    if (form.classList.contains("status-form")) {
      window.location.reload();
      return;
    }
    await refresh();
    const moved = article && document.getElementById(article.id);
    const next = moved && moved.querySelector("button");
    if (next) next.focus();
    else if (moved) { moved.tabIndex = -1; moved.focus(); }
  });

  window.setInterval(refresh, every);
})();
