// The flow editor (admins): a flow's YAML in a textarea with line numbers; "check" and
// "save" run acd's own validation (the same as `acd check`), whose errors are marked at
// their line. A save replaces the file on the server (the running acd reloads it); the
// text it replaced is kept as a version that can be viewed and restored.
"use strict";

const editor = { name: "", sha: "", saved: "", errors: [] };

function lines() { return $("#flow-text").value.split("\n").length; }

function paintGutter() {
  const gutter = $("#gutter");
  const bad = new Map();
  for (const e of editor.errors) {
    if (e.line && (!e.file || e.file.replace(/\.ya?ml$/, "") === editor.name)) {
      bad.set(e.line, (bad.get(e.line) ? `${bad.get(e.line)}\n` : "") + e.message);
    }
  }
  gutter.textContent = "";
  const count = Math.max(lines(), ...bad.keys());
  for (let n = 1; n <= count; n++) {
    const row = gutter.appendChild(element("div", String(n)));
    row.dataset.line = String(n);
    if (bad.has(n)) { row.className = "bad"; row.title = bad.get(n); }
  }
  gutter.scrollTop = $("#flow-text").scrollTop;
}

function showErrors(errors) {
  editor.errors = errors;
  const list = $("#flow-errors");
  list.textContent = "";
  for (const e of errors) {
    const where = e.line ? `${e.file}:${e.line}:${e.column}` : e.file;
    const item = list.appendChild(element("li", `${where} ${e.message}`));
    item.dataset.line = String(e.line ?? "");
    item.addEventListener("click", () => goToLine(e.line, e.column));
  }
  paintGutter();
}

function goToLine(line, column) {
  if (!line) return;
  const text = $("#flow-text");
  const starts = text.value.split("\n").slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
  text.focus();
  text.setSelectionRange(starts + (column ?? 1) - 1, starts + (column ?? 1) - 1);
}

function status(message, bad) {
  const node = $("#flow-status");
  node.className = bad ? "error" : "";
  node.textContent = message;
}

async function listFlows() {
  const answer = await api("GET", "/api/flows");
  if (!answer.ok) { status(answer.body.message ?? String(answer.status), true); return; }
  const list = $("#flow-list");
  list.textContent = "";
  for (const flow of answer.body.flows) {
    const item = list.appendChild(element("li", flow.name));
    item.dataset.flow = flow.name;
    item.addEventListener("click", () => openFlow(flow.name));
  }
  if (answer.body.flows.length) openFlow(editor.name || answer.body.flows[0].name);
}

function showVersions(versions) {
  const list = $("#version-list");
  list.textContent = "";
  for (const version of versions) {
    const item = list.appendChild(element("li", version));
    item.dataset.version = version;
    const view = item.appendChild(element("button", t("view")));
    view.type = "button";
    view.addEventListener("click", () => viewVersion(version));
    const restore = item.appendChild(element("button", t("restore"), "restore"));
    restore.type = "button";
    restore.addEventListener("click", () => restoreVersion(version));
  }
}

async function openFlow(name) {
  const answer = await api("GET", `/api/flows/${encodeURIComponent(name)}`);
  if (!answer.ok) { status(answer.body.message ?? String(answer.status), true); return; }
  Object.assign(editor, { name, sha: answer.body.sha, saved: answer.body.text });
  for (const item of document.querySelectorAll("#flow-list li")) {
    item.classList.toggle("open", item.dataset.flow === name);
  }
  $("#flow-name").textContent = answer.body.file;
  $("#flow-text").value = answer.body.text;
  showVersions(answer.body.versions);
  showErrors([]);
  status("");
}

async function check() {
  const answer = await api("POST", `/api/flows/${encodeURIComponent(editor.name)}/check`,
    { text: $("#flow-text").value });
  if (!answer.ok) { status(answer.body.message ?? String(answer.status), true); return; }
  showErrors(answer.body.errors);
  status(answer.body.errors.length ? `${answer.body.errors.length} ${t("errorsFound")}`
    : t("valid"), answer.body.errors.length > 0);
}

function afterSave(answer, word) {
  if (answer.status === 400 && answer.body.errors) {
    showErrors(answer.body.errors);
    status(`${answer.body.errors.length} ${t("errorsFound")}`, true);
    return;
  }
  if (answer.status === 409) { status(t("changedMeanwhile"), true); return; }
  if (!answer.ok) { status(answer.body.message ?? String(answer.status), true); return; }
  editor.sha = answer.body.sha;
  showVersions(answer.body.versions);
  showErrors([]);
  status(t(word));
}

async function save() {
  const text = $("#flow-text").value;
  const answer = await api("POST", `/api/flows/${encodeURIComponent(editor.name)}/save`,
    { text, sha: editor.sha });
  if (answer.ok) editor.saved = text;
  afterSave(answer, "saved");
}

async function viewVersion(version) {
  const answer = await api("GET",
    `/api/flows/${encodeURIComponent(editor.name)}/versions/${encodeURIComponent(version)}`);
  if (!answer.ok) { status(answer.body.message ?? String(answer.status), true); return; }
  $("#flow-text").value = answer.body.text;  // shown, not saved: "save" would save it
  showErrors([]);
  status(`${version}: ${t("unsaved")}`);
}

async function restoreVersion(version) {
  const answer = await api("POST",
    `/api/flows/${encodeURIComponent(editor.name)}/versions/${encodeURIComponent(version)}/restore`);
  afterSave(answer, "restored");
  if (answer.ok) await openFlow(editor.name);
  if (answer.ok) status(t("restored"));
}

consolePage({ least: "admin", ready: listFlows, translated: () => {} });

document.addEventListener("DOMContentLoaded", () => {
  const text = $("#flow-text");
  text.addEventListener("input", paintGutter);
  text.addEventListener("scroll", () => { $("#gutter").scrollTop = text.scrollTop; });
  text.addEventListener("keydown", (event) => {  // Tab indents (YAML wants spaces)
    if (event.key !== "Tab") return;
    event.preventDefault();
    text.setRangeText("  ", text.selectionStart, text.selectionEnd, "end");
    paintGutter();
  });
  $("#check").addEventListener("click", check);
  $("#save").addEventListener("click", save);
});
