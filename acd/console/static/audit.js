// The audit log (admins): who did what, on which call, agent, flow or user, when and
// from which address, and how acd answered: supervisors' actions, every recording
// played or downloaded, admins' changes (GET /api/audit, newest first).
"use strict";

// the fields an entry names its object by, in the order they are shown
const TARGET_FIELDS = ["call", "agent", "flow", "version", "target_user", "new_role",
  "schedule", "date", "queue", "list", "match", "mode", "reason", "device", "extension",
  "range"];
let entries = [];

function auditRow(entry) {
  const line = element("div", undefined, "row");
  line.dataset.action = entry.action;
  const target = TARGET_FIELDS.filter((f) => entry[f] !== undefined && entry[f] !== "")
    .map((f) => `${f}=${entry[f]}`).join(" ");
  const at = new Date(entry.at * 1000).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB");
  line.append(element("div", at), element("div", `${entry.user} (${entry.role})`),
              element("div", entry.action), element("div", target),
              element("div", entry.address), element("div", String(entry.status)));
  if (entry.status >= 400) line.classList.add("refused");
  return line;
}

function renderAudit() {
  $("#audit .rows").replaceChildren(...entries.map(auditRow));
}

async function loadAudit(event) {
  if (event) event.preventDefault();
  const form = $("#audit-filter");
  const query = new URLSearchParams({ limit: form.limit.value || "100" });
  if (form.since.value) query.set("since", String(new Date(form.since.value).getTime() / 1000));
  const answer = await api("GET", `/api/audit?${query}`);
  if (!answer.ok) {
    report(answer);
    return;
  }
  entries = answer.body;
  renderAudit();
}

consolePage({ least: "admin", ready: () => loadAudit(), translated: renderAudit });

document.addEventListener("DOMContentLoaded", () => {
  $("#audit-filter").addEventListener("submit", loadAudit);
});
