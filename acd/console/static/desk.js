// The agent desk: my state and queues (GET /api/me and my row on /api/live), the screen
// pop when my phone rings (the call.offered event, then the caller's previous calls by
// call id), call controls, wrap-up dispositions and today's figures. The caller's number
// is shown only as the server sends it (masked for agents); click-to-call sends the call
// id, never a number. Plain JS on shell.js (the frame, login, language) and admin.js (api()).
"use strict";

const desk = {
  me: null, row: null, offset: 0, socket: null, retry: 500,
  call: null,        // {id, data, state}: the call on the screen pop
  wrapCall: "",      // the call a disposition is filed for
  popShownAt: 0,     // when the pop showed: performance.now() and epoch ms (tests read them)
  popShownEpochMs: 0,
  snapshots: 0,
};
window.acdDesk = desk;
const PICKUP_POLL_MS = 3000;

const fmt = (seconds) => {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = String(m).padStart(h ? 2 : 1, "0"), ss = String(r).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
};
const clock = (epoch) => new Date(epoch * 1000).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB");
const serverNow = () => (Date.now() + desk.offset) / 1000;

// a message line: a word of the page's (re-translated with the page) and/or the
// server's own text
function say(id, key, rest, isError) {
  const node = $(id);
  node.dataset.key = key ?? "";
  node.dataset.rest = rest ?? "";
  node.textContent = (key ? t(key) : "") + (rest ?? "");
  node.classList.toggle("error", Boolean(isError));
}

function retranslateMessages() {
  for (const node of document.querySelectorAll("[data-key]")) {
    if (node.dataset.key) node.textContent = t(node.dataset.key) + (node.dataset.rest ?? "");
  }
  const status = $("#status");
  status.textContent = t(status.dataset.state);
}

// an API answer as [key, rest, bad]: done, or the server's own message; a 404 without
// acd's JSON error is a route this acd does not have yet (a call control): said politely
function outcome(answer, missingIsNotYet) {
  if (answer.ok) return ["done", "", false];
  if (answer.status === 404 && missingIsNotYet && !answer.body.error) return ["notYet", "", true];
  return ["", answer.body.message ?? `HTTP ${answer.status}`, true];
}

// -- me: state, queues, figures ---------------------------------------------------------

async function loadMe() {
  const answer = await api("GET", "/api/me");
  if (!answer.ok) {
    if (answer.status === 403) { $("#page").hidden = true; $("#refused").hidden = false; }
    else say("#desk-error", "", answer.body.message ?? `HTTP ${answer.status}`, true);
    $("#desk-error").hidden = answer.status === 403 || answer.ok;
    return;
  }
  $("#desk-error").hidden = true;
  desk.me = answer.body;
  if (!desk.row) desk.row = { state: desk.me.state, since: desk.me.since,
                              reason: desk.me.reason, pending_logout: desk.me.pending_logout };
  renderMe();
  renderState();
}

function renderMe() {
  const me = desk.me;
  if (!me) return;
  $("#agent-name").textContent = me.name || me.agent;
  $("#agent-id").textContent = me.agent;
  const select = $("#pause-reason");
  const chosen = select.value;
  select.replaceChildren(...me.pause_reasons.map((r) => {
    const option = element("option", r.reason);
    option.value = r.code;
    return option;
  }));
  if (chosen) select.value = chosen;
  $("#queues").replaceChildren(...me.queues.map((queue) => {
    const serving = me.serving.includes(queue);
    const button = element("button", `${queue} · ${t(serving ? "serving" : "notServing")}`,
                           serving ? "serving" : "not-serving");
    button.type = "button";
    button.dataset.queue = queue;
    button.dataset.serving = String(serving);
    button.addEventListener("click", () => act(serving ? "queue-logout" : "queue-login",
                                               { queue }));
    return button;
  }));
  const today = me.today;
  $("#fig-answered").textContent = today.answered;
  $("#fig-talk").textContent = fmt(today.talk_seconds);
  $("#fig-aht").textContent = today.aht_seconds === null ? "–" : fmt(today.aht_seconds);
  for (const node of document.querySelectorAll("#fig-survey [data-answer]")) {
    node.textContent = today.survey ? today.survey[node.dataset.answer] : "–";
  }
  $("#pickup-panel").hidden = me.ringing_colleagues.length === 0;
  $("#pickup").replaceChildren(...me.ringing_colleagues.map((ring) => {
    const button = element("button", `${t("pickUp")} ${ring.queue} (${ring.ringing.join(", ")})`);
    button.type = "button";
    button.dataset.pickup = ring.call_id;
    button.addEventListener("click", () => control(ring.call_id, "pickup"));
    return button;
  }));
}

function renderState() {
  const row = desk.row;
  if (!row) return;
  const state = $("#state");
  state.textContent = t(row.state);
  state.dataset.state = row.state;
  state.className = `state-${row.state}`;
  $("#reason").textContent = row.state === "paused" ? row.reason : "";
  $("#pending-logout").hidden = !row.pending_logout;
  $("#in-state").textContent = fmt(serverNow() - row.since);
  $("#go-available").disabled = row.state === "available" || row.state === "on-call" ||
    row.state === "ringing";
  $("#go-pause").disabled = row.state === "paused" || row.state === "logged-out";
  $("#end-wrapup").disabled = row.state !== "wrap-up";
  $("#go-logout").disabled = row.state === "logged-out" || Boolean(row.pending_logout);
  $("#wrapup").hidden = !desk.wrapCall || !["wrap-up", "available", "paused"].includes(row.state) ||
    $("#wrapup").dataset.filed === desk.wrapCall;
}

async function act(action, body) {
  const me = desk.me;
  if (!me) return;
  const answer = await api("POST", `/api/agents/${encodeURIComponent(me.agent)}/${action}`, body);
  const [key, rest, bad] = outcome(answer, false);
  say("#state-result", answer.ok && answer.body.pending ? "pendingLogout" : key, rest, bad);
  await loadMe();
}

function available() {
  const state = desk.row?.state;
  if (state === "logged-out") act("login", {});
  else if (state === "wrap-up") act("wrap-up-end");
  else act("resume");
}

// -- the live stream: my row and my calls' events ------------------------------------------

function connect() {
  const token = sessionStorage.getItem("acd.token");
  if (!token) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/api/live`);
  desk.socket = ws;
  ws.onopen = () => {
    ws.send(JSON.stringify({ type: "auth", token }));
    ws.send(JSON.stringify({ type: "subscribe", events: ["call.*", "agent.state"] }));
  };
  ws.onmessage = (message) => {
    desk.retry = 500;
    $("#status").dataset.state = "live";
    $("#status").textContent = t("live");
    receive(JSON.parse(message.data));
  };
  ws.onclose = (event) => {
    if (desk.socket !== ws) return;
    desk.socket = null;
    $("#status").dataset.state = "reconnecting";
    $("#status").textContent = t("reconnecting");
    if (event.code === 4401 || event.code === 4403) return;  // logged out: no desk
    setTimeout(connect, desk.retry);
    desk.retry = Math.min(desk.retry * 2, 5000);
  };
}

function receive(message) {
  if (message.type === "snapshot" || message.type === "delta") {
    if (message.type === "snapshot") desk.snapshots += 1;
    desk.offset = message.now * 1000 - Date.now();
    const own = Object.values(message.agents ?? {})[0];
    if (own) {
      const changed = !desk.row || desk.row.state !== own.state ||
        desk.row.pending_logout !== own.pending_logout;
      desk.row = own;
      renderState();
      if (changed) loadMe();  // queues served, figures: after each change of state
    }
  } else if (message.type === "event") {
    onEvent(message.event);
  }
}

const POP_STATES = { "call.answered": "popConnected", "call.held": "popHeld",
                     "call.resumed": "popConnected", "call.transferred": "popTransferred",
                     "call.ended": "popEnded" };

function onEvent(event) {
  if (event.type === "call.offered") { pop(event); return; }
  if (!event.call_id || !desk.call || desk.call.id !== event.call_id) return;
  if (event.type === "call.answered") desk.wrapCall = event.call_id;
  if (event.type === "call.ended" && event.data.agent === desk.me?.agent) {
    desk.wrapCall = event.call_id;
  }
  desk.call.state = POP_STATES[event.type] ?? event.type;  // consult, conference: as named
  $("#pop").dataset.state = event.type;
  renderPopState();
  renderState();
}

// -- the screen pop --------------------------------------------------------------------------

// IVR variables every call has, shown in the pop's head already
const SHOWN_ABOVE = new Set(["caller", "call_id"]);

function pop(event) {
  const data = event.data;
  desk.call = { id: event.call_id, data, state: "popRinging" };
  $("#pop").dataset.callId = event.call_id;
  $("#pop").dataset.state = event.type;
  $("#pop-caller").textContent = data.caller;
  $("#pop-vip").hidden = !data.vip;
  $("#pop-queue").textContent = data.queue;
  $("#pop-path").textContent = (data.ivr_path ?? []).join(" → ");
  $("#pop-call-id").textContent = event.call_id;
  const facts = [];
  for (const [name, value] of Object.entries(data.variables ?? {})) {
    if (SHOWN_ABOVE.has(name)) continue;
    const term = element("dt", name);
    const detail = element("dd", String(value));
    detail.dataset.variable = name;
    facts.push(term, detail);
  }
  $("#pop-variables").replaceChildren(...facts);
  say("#control-result", "");
  say("#outbound-result", "");
  renderPopState();
  $("#pop").hidden = false;
  desk.popShownAt = performance.now();
  desk.popShownEpochMs = Date.now();
  loadPrevious(event.call_id);
}

function renderPopState() {
  if (desk.call) $("#pop-state").textContent = t(desk.call.state);
}

async function loadPrevious(callId) {
  $("#previous .rows").replaceChildren();
  say("#previous-note", "");
  const answer = await api("GET", `/api/calls/${encodeURIComponent(callId)}/history`);
  if (desk.call?.id !== callId) return;  // another call rang meanwhile
  if (!answer.ok) {
    say("#previous-note", "previousUnavailable", answer.body.message ?? "");
    return;
  }
  if (answer.body.calls.length === 0) say("#previous-note", "noPrevious");
  $("#previous .rows").replaceChildren(...answer.body.calls.map((call) => {
    const row = element("div", undefined, "row");
    row.setAttribute("role", "row");
    row.dataset.call = call.call_id;
    const survey = call.survey && WORDS[lang][`s${call.survey}`] ? t(`s${call.survey}`) : call.survey;
    const button = element("button", t("call"));
    button.type = "button";
    button.addEventListener("click", () => callBack(call.call_id));
    const last = element("div");
    last.append(button);
    row.append(element("div", clock(call.arrived_at)), element("div", call.agent || "–"),
               element("div", t(call.outcome)), element("div", survey || "–"),
               element("div", [call.disposition, call.disposition_note].filter(Boolean).join(": ")),
               last);
    return row;
  }));
}

// an own call (POST /api/outbound): a caller again by their call id, or a colleague's
// extension; never a customer's number
async function ownCall(target, line) {
  say(line, "calling");
  const answer = await api("POST", "/api/outbound", target);
  const [key, rest, bad] = outcome(answer, false);
  say(line, answer.ok ? "calling" : key, answer.ok ? ` ${answer.body.call_id ?? ""}` : rest, bad);
}

const callBack = (callId) => ownCall({ call_id: callId }, "#outbound-result");

// -- call controls (hold, consult, conference, pickup) ----------------------------------------

async function control(callId, action) {
  const body = action === "consult" ? { to: $("#consult-to").value.trim() } : undefined;
  const answer = await api("POST", `/api/calls/${encodeURIComponent(callId)}/${action}`, body);
  const [key, rest, bad] = outcome(answer, true);
  say(action === "pickup" ? "#state-result" : "#control-result", key, rest, bad);
}

// -- wrap-up ---------------------------------------------------------------------------------

async function loadDispositions() {
  const answer = await api("GET", "/api/dispositions");
  if (!answer.ok) return;
  $("#disposition").replaceChildren(...answer.body.dispositions.map((d) => {
    const option = element("option", d.label);
    option.value = d.code;
    return option;
  }));
}

async function fileDisposition(event) {
  event.preventDefault();
  const callId = desk.wrapCall;
  const answer = await api("POST", `/api/calls/${encodeURIComponent(callId)}/disposition`,
                           { category: $("#disposition").value, note: $("#disposition-note").value });
  const [key, rest, bad] = outcome(answer, false);
  say("#wrapup-result", answer.ok ? "saved" : key, rest, bad);
  if (answer.ok) {
    $("#wrapup").dataset.filed = callId;
    $("#disposition-note").value = "";
  }
}

consolePage({
  least: "agent",
  ready: () => {
    // (a new login on this page: nothing of the previous user's stays)
    Object.assign(desk, { me: null, row: null, call: null, wrapCall: "" });
    $("#pop").hidden = true;
    loadMe();
    loadDispositions();
    if (!desk.socket) connect();
  },
  translated: () => { renderMe(); renderState(); renderPopState(); retranslateMessages(); },
});

document.addEventListener("DOMContentLoaded", () => {
  $("#go-available").addEventListener("click", available);
  $("#go-pause").addEventListener("click", () => act("pause", { reason: $("#pause-reason").value }));
  $("#end-wrapup").addEventListener("click", () => act("wrap-up-end"));
  $("#go-logout").addEventListener("click", () => act("logout"));
  $("#call-extension").addEventListener("click", () => ownCall(
    { extension: $("#dial-extension").value.trim() }, "#extension-result"));
  $("#pop-call-back").addEventListener("click", () => desk.call && callBack(desk.call.id));
  for (const button of document.querySelectorAll("[data-control]")) {
    button.addEventListener("click", () => desk.call && control(desk.call.id, button.dataset.control));
  }
  $("#wrapup").addEventListener("submit", fileDisposition);
  setInterval(() => {
    if (desk.row) $("#in-state").textContent = fmt(serverNow() - desk.row.since);
  }, 1000);
  // colleagues' ringing calls (pickup) and the figures: re-read while the agent could take
  // one and the page is in view
  setInterval(() => {
    const free = ["available", "paused", "wrap-up"].includes(desk.row?.state);
    if (desk.me && free && !$("#page").hidden && !document.hidden) loadMe();
  }, PICKUP_POLL_MS);
});
