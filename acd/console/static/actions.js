// Supervisor actions on the agent clicked on: force a pause, make available, log out, and
// listen/whisper/barge on their call or take it over (intercept). The API refuses what
// the role may not do (shown as is); acd writes each action to the audit log. Loaded
// after console.js.
"use strict";

let selected = null;

function select(id) {
  if (selected) agentRows.get(selected)?.tr.classList.remove("selected");
  selected = id;
  $("#actions").hidden = id === null;
  $("#actions-result").textContent = "";
  if (id === null) return;
  agentRows.get(id).tr.classList.add("selected");
  refreshActions();
}

// called when the selected agent's row changes: listening in needs a call
function refreshActions() {
  const row = agents.get(selected);
  if (!row) return;
  $("#actions-agent").textContent = `${row.id} ${row.name}`;
  for (const button of document.querySelectorAll("#actions [data-spy]")) {
    button.hidden = !(row.call_id && row.state === "on-call");
  }
}

async function post(path, body) {
  const token = sessionStorage.getItem("acd.token");
  const result = $("#actions-result");
  result.className = "";
  result.textContent = "…";
  const response = await fetch(path, {
    method: "POST", body: JSON.stringify(body),
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
  });
  const answer = await response.json().catch(() => ({}));
  if (response.status === 401) { signOut(); return; }
  result.className = response.ok ? "" : "error";
  result.textContent = response.ok ? t("done") : (answer.message ?? String(response.status));
}

async function act(action) {
  if (!selected) return;
  const body = action === "pause" ? { reason: $("#actions-reason").value.trim() } : {};
  await post(`/api/agents/${encodeURIComponent(selected)}/${action}`, body);
}

// listen (silent), whisper (to the agent) or barge (both): the supervisor's own phone
// (users.NAME.device) rings and joins the call; intercept: it takes the call over (the
// agent's leg is released)
async function spy(mode) {
  const row = agents.get(selected);
  if (!row?.call_id) return;
  const call = encodeURIComponent(row.call_id);
  if (mode === "intercept") await post(`/api/calls/${call}/intercept`, {});
  else await post(`/api/calls/${call}/spy`, { mode });
}

function wireActions() {
  $("#agents .rows").addEventListener("click", (event) => {
    const row = event.target.closest("[data-agent]");
    if (row) select(row.dataset.agent);
  });
  for (const button of document.querySelectorAll("#actions [data-action]")) {
    button.addEventListener("click", () => act(button.dataset.action));
  }
  for (const button of document.querySelectorAll("#actions [data-spy]")) {
    button.addEventListener("click", () => spy(button.dataset.spy));
  }
  $("#actions-close").addEventListener("click", () => select(null));
}
