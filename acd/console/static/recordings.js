// The recordings page: search (GET /api/recordings), play in an <audio> element and
// download. The audio address carries a short ticket from POST .../play, since an
// <audio> element cannot send the login's header; the browser then asks for the parts
// it plays with Range requests, so seeking works. Each fetch is in acd's audit log.
"use strict";

let cursor = null;
let lastQuery = "";
const shown = [];  // the rows on the page, painted again in the other language

function epoch(value) { return value ? String(new Date(value).getTime() / 1000) : ""; }

function clock(seconds) {
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function surveyWord(value) {
  return value === "1" || value === "2" || value === "3" ? t(`s${value}`) : value ? t(value) : "";
}

function query() {
  const form = $("#search");
  const params = new URLSearchParams();
  for (const name of ["agent", "queue", "caller", "survey", "min_seconds", "max_seconds"]) {
    if (form[name].value.trim()) params.set(name, form[name].value.trim());
  }
  if (form.from.value) params.set("from", epoch(form.from.value));
  if (form.to.value) params.set("to", epoch(form.to.value));
  return params;
}

function addRow(rec) {
  const tr = element("div", undefined, "row");
  tr.setAttribute("role", "row");
  tr.dataset.call = rec.call_id;
  const when = new Date(rec.start * 1000).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB");
  for (const text of [when, rec.agent, rec.queue, rec.caller, clock(rec.duration),
                      surveyWord(rec.survey)]) tr.appendChild(element("div", text));
  const buttons = tr.appendChild(element("div"));
  const play = buttons.appendChild(element("button", t("play"), "play"));
  play.type = "button";
  play.addEventListener("click", () => listen(rec));
  const save = buttons.appendChild(element("button", t("download"), "download"));
  save.type = "button";
  save.addEventListener("click", () => download(rec));
  $("#results .rows").appendChild(tr);
}

async function search(more) {
  if (!more) {
    lastQuery = query().toString();
    cursor = null;
    shown.length = 0;
    $("#results .rows").textContent = "";
  }
  const params = new URLSearchParams(lastQuery);
  if (more && cursor) params.set("cursor", cursor);
  $("#search-error").textContent = "";
  const answer = await api("GET", `/api/recordings?${params}`);
  if (!answer.ok) {
    $("#search-error").textContent = answer.body.message ?? String(answer.status);
    return;
  }
  for (const rec of answer.body.recordings) { shown.push(rec); addRow(rec); }
  cursor = answer.body.next_cursor;
  $("#more").hidden = !cursor;
  $("#none").hidden = $("#results .rows").children.length > 0;
}

async function ticket(rec) {
  const answer = await api("POST", `/api/recordings/${encodeURIComponent(rec.call_id)}/play`);
  if (!answer.ok) {
    $("#search-error").textContent = answer.body.message ?? String(answer.status);
    return null;
  }
  return answer.body;
}

async function listen(rec) {
  const urls = await ticket(rec);
  if (!urls) return;
  const player = $("#player");
  player.src = urls.audio;
  $("#playing").textContent = `${rec.call_id} ${rec.caller}`;
  for (const row of document.querySelectorAll("#results .row.playing")) row.classList.remove("playing");
  document.querySelector(`#results [data-call="${CSS.escape(rec.call_id)}"]`)?.classList.add("playing");
  player.play().catch(() => {});  // a browser may want a click first: the controls are there
}

async function download(rec) {
  const urls = await ticket(rec);
  if (!urls) return;
  const link = element("a");
  link.href = urls.download;
  link.download = "";
  document.body.appendChild(link);
  link.click();
  link.remove();
}

consolePage({
  least: "agent",  // acd decides: an agent only when console.agents_replay_own is on
  ready: () => search(false),
  translated: () => {
    $("#results .rows").textContent = "";
    for (const rec of shown) addRow(rec);
  },
});

document.addEventListener("DOMContentLoaded", () => {
  $("#search").addEventListener("submit", (event) => { event.preventDefault(); search(false); });
  $("#more").addEventListener("click", () => search(true));
});
