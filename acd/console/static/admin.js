// What the console's admin pages (recordings, flows, users, lists, dates, announcement)
// share beyond the frame (shell.js): calling the API with the session's token.
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
