// What the console's admin pages (recordings, flows, users, lists, dates, settings,
// announcement) share beyond the frame (shell.js): calling the API with the session's
// token, and saying how it went on the page's status line.
"use strict";

// {status, ok, body}; a 401 (logged out, password changed) shows the login again
async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${token()}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (response.status === 401) signOut();
  return { status: response.status, ok: response.ok, body: answer };
}

// an answer on the page's status line: the word of a success (kept in the language the
// page is switched to), or what acd said was wrong
function report(answer, word) {
  const node = $("#page [role=status]");
  node.className = answer.ok ? "" : "error";
  node.textContent = answer.ok ? t(word) : answer.body.message ?? String(answer.status);
  if (answer.ok && word) node.dataset.i18n = word; else delete node.dataset.i18n;
}
