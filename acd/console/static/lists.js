// The caller lists (admins): the blacklist and whitelist entries, one added or removed
// at a time, or a whole CSV imported (every row or none: bad rows are listed) and
// exported. A change applies from the next call.
"use strict";

function entryRow(entry) {
  const tr = element("div", undefined, "row");
  tr.setAttribute("role", "row");
  tr.dataset.entry = `${entry.list}|${entry.match}|${entry.value}`;
  for (const text of [t(entry.list), entry.match, entry.value, entry.action, entry.target,
                      entry.priority ?? "", entry.expires, entry.note]) {
    tr.appendChild(element("div", String(text)));
  }
  const remove = tr.appendChild(element("div")).appendChild(element("button", t("remove"), "remove"));
  remove.type = "button";
  remove.addEventListener("click", async () => {
    const answer = await api("POST", "/api/lists/remove",
      { list: entry.list, match: entry.match, value: entry.value });
    report(answer, "removed");
    if (answer.ok) await listEntries();
  });
  return tr;
}

async function listEntries() {
  const answer = await api("GET", "/api/lists");
  if (!answer.ok) { report(answer); return; }
  const rows = $("#entries .rows");
  rows.textContent = "";
  for (const entry of answer.body.entries) rows.appendChild(entryRow(entry));
}

async function addEntry(event) {
  event.preventDefault();
  const form = event.target;
  const body = {};
  for (const name of ["list", "match", "value", "action", "target", "priority", "expires", "note"]) {
    if (form[name].value.trim()) body[name] = form[name].value.trim();
  }
  const answer = await api("POST", "/api/lists", body);
  report(answer, "saved");
  if (answer.ok) { form.value.value = ""; form.note.value = ""; await listEntries(); }
}

async function importCsv() {
  const file = $("#csv-file").files[0];
  if (!file) return;
  const replace = $("#csv-replace").checked ? "?replace=1" : "";
  const response = await fetch(`/api/lists/import${replace}`, {
    method: "POST", body: await file.text(),
    headers: { "Content-Type": "text/csv", Authorization: `Bearer ${token()}` },
  });
  const body = await response.json().catch(() => ({}));
  const errors = $("#csv-errors");
  errors.textContent = "";
  for (const e of body.errors ?? []) errors.appendChild(element("li", `row ${e.row}: ${e.message}`));
  report({ ok: response.ok, status: response.status, body },
    response.ok ? "saved" : undefined);
  if (response.ok) $("#lists-status").textContent = `${t("imported")} ${body.imported}`;
  $("#csv-file").value = "";
  await listEntries();
}

async function exportCsv() {
  const response = await fetch("/api/lists.csv", { headers: { Authorization: `Bearer ${token()}` } });
  if (!response.ok) {
    report({ ok: false, status: response.status, body: await response.json().catch(() => ({})) });
    return;
  }
  const link = element("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = "caller-lists.csv";
  document.body.appendChild(link);
  link.click();
  link.remove();
}

consolePage({ least: "admin", ready: listEntries, translated: () => {} });

document.addEventListener("DOMContentLoaded", () => {
  $("#add-entry").addEventListener("submit", addEntry);
  $("#csv-file").addEventListener("change", importCsv);
  $("#export").addEventListener("click", exportCsv);
});
