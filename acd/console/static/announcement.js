// The global announcement (admins): what callers hear where a flow has an
// `announcement` node, switched on with an optional expiry (acd switches it off then,
// Redis dropping it for every acd process) or off at once.
"use strict";

let current = null;

function showCurrent(body) {
  current = body;
  const prompts = body.announcement ?? [];
  $("#current").textContent = prompts.length
    ? prompts.map((p) => (typeof p === "string" ? p : p.text)).join(" / ") : t("off");
  $("#current-expiry").textContent = body.expires_at
    ? `${t("until")} ${new Date(body.expires_at * 1000).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB")}`
    : "";
}

async function load() {
  const answer = await api("GET", "/api/announcement");
  if (!answer.ok) { report(answer); return; }
  showCurrent(answer.body);
}

async function switchOn(event) {
  event.preventDefault();
  const form = event.target;
  const body = { prompts: [{ text: form.text.value.trim() }] };
  if (form.expires.value) body.expires_at = new Date(form.expires.value).getTime() / 1000;
  const answer = await api("PUT", "/api/announcement", body);
  report(answer, "saved");
  if (answer.ok) await load();
}

async function switchOff() {
  const answer = await api("DELETE", "/api/announcement");
  report(answer, "removed");
  if (answer.ok) await load();
}

consolePage({ least: "admin", ready: load, translated: () => { if (current) showCurrent(current); } });

document.addEventListener("DOMContentLoaded", () => {
  $("#announce").addEventListener("submit", switchOn);
  $("#clear").addEventListener("click", switchOff);
});
