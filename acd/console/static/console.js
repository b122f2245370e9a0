// The supervisors' wallboard: one WebSocket (/api/live), a snapshot then deltas, rows
// updated in place (1,000 agents: never re-render the table per message). Plain JS, no
// build step, nothing loaded from elsewhere. The stream's format: docs/console.md.
"use strict";

// what the tests and the benchmark read
const stats = { snapshots: 0, deltas: 0, seq: 0, applyMs: [] };
window.acdConsole = stats;

let offset = 0;  // server clock minus ours, seconds (each message carries the server's now)
const serverNow = () => Date.now() / 1000 + offset;

function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = String(m).padStart(2, "0"), ss = String(r).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function percent(x) { return x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`; }
function seconds(x) { return x === null || x === undefined ? "–" : `${Math.round(x)}s`; }

// -- translation -----------------------------------------------------------------------

// what the shared frame's translation (shell.js) leaves to the wallboard
function translated() {
  for (const tile of tiles.values()) tile.label(); // words inside the tiles
  for (const id of agentRows.keys()) paintAgent(id);
  setStatus($("#status").dataset.state);
}

// -- rows: created once, then only their changed cells are touched --------------------

const agents = new Map();     // id -> row from the stream
const agentRows = new Map();  // id -> {tr, cells}
const callers = new Map();    // "queue/call" -> row
const callerRows = new Map(); // key -> {tr, cells}
const queues = new Map();     // name -> row
const tiles = new Map();      // name -> tile

// Only rows on screen tick every second (1,700 rows of clocks would make the browser lay
// out the page every second); a row ticks again the moment it scrolls into view.
const onScreen = new Set();  // tr elements
const watcher = new IntersectionObserver((entries) => {
  const now = serverNow();
  for (const entry of entries) {
    const tr = entry.target;
    if (!entry.isIntersecting) { onScreen.delete(tr); continue; }
    onScreen.add(tr);
    if (tr.dataset.agent !== undefined && agents.has(tr.dataset.agent)) tickAgent(tr.dataset.agent, now);
    if (tr.dataset.caller !== undefined && callers.has(tr.dataset.caller)) tickCaller(tr.dataset.caller, now);
  }
});

function watch(tr) { watcher.observe(tr); }
function unwatch(tr) { watcher.unobserve(tr); onScreen.delete(tr); }

function newRow(count) {
  const tr = document.createElement("div");
  tr.className = "row";
  tr.setAttribute("role", "row");
  const out = [];
  for (let i = 0; i < count; i++) out.push(tr.appendChild(document.createElement("div")));
  return [tr, out];
}

function agentOrder(a, b) {
  const na = /^\d+$/.test(a) ? Number(a) : NaN, nb = /^\d+$/.test(b) ? Number(b) : NaN;
  if (!isNaN(na) && !isNaN(nb)) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

function paintAgent(id) {
  const row = agents.get(id), view = agentRows.get(id);
  const [num, name, state, reason, , calls, talk] = view.cells;
  setText(num, row.id);
  setText(name, row.name);
  const pending = row.pending_pause ? ` → ${t("paused")}`
    : row.pending_logout ? ` → ${t("logged-out")}` : "";
  setText(state, t(row.state) + pending);
  state.className = `state state-${row.state}`;
  const unreachable = !row.reachable && row.state !== "logged-out";
  view.tr.classList.toggle("unreachable", unreachable);
  state.title = unreachable ? t("unreachable") : "";
  setText(reason, row.state === "paused" ? row.reason : row.call_id ? row.call_id : "");
  setText(calls, String(row.answered));
  setText(talk, duration(row.talk_seconds));
  if (onScreen.has(view.tr)) tickAgent(id, serverNow());
  if (id === selected) refreshActions();
}

function tickAgent(id, now) {
  const row = agents.get(id), view = agentRows.get(id);
  const inState = now - row.since;
  setText(view.cells[4], row.state === "logged-out" ? "" : duration(inState));
  const alert = row.state === "paused" && row.pause_alert > 0 && inState > row.pause_alert;
  if (view.alert !== alert) { view.alert = alert; view.tr.classList.toggle("alert", alert); }
}

function putAgent(row) {
  agents.set(row.id, row);
  if (!agentRows.has(row.id)) {
    const [tr, cells] = newRow(7);
    tr.dataset.agent = row.id;
    const view = { tr, cells, alert: false };
    view.cells[4].className = "time";
    agentRows.set(row.id, view);
    // in number order: after the last row whose number is smaller
    const body = $("#agents .rows");
    let before = null;  // a snapshot comes in number order: appended, no search
    const last = body.lastElementChild;
    if (last && agentOrder(last.dataset.agent, row.id) > 0) {
      for (const other of body.children) {
        if (agentOrder(other.dataset.agent, row.id) > 0) { before = other; break; }
      }
    }
    body.insertBefore(tr, before);
    watch(tr);
  }
  paintAgent(row.id);
}

function dropAgent(id) {
  if (selected === id) select(null);
  agents.delete(id);
  const view = agentRows.get(id);
  if (view) { unwatch(view.tr); view.tr.remove(); }
  agentRows.delete(id);
}

// callers: per queue in service order (priority first, then arrival)
function callerOrder(a, b) {
  if (a.queue !== b.queue) return a.queue < b.queue ? -1 : 1;
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.arrived_at !== b.arrived_at) return a.arrived_at - b.arrived_at;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
let callerList = [];  // keys in display order
let positionsStale = false;

function putCaller(key, row) {
  const known = callers.has(key);
  callers.set(key, row);
  let view = callerRows.get(key);
  if (!view) {
    const [tr, cells] = newRow(4);
    tr.dataset.caller = key;
    view = { tr, cells, late: false };
    view.cells[3].className = "time";
    callerRows.set(key, view);
  }
  const [queue, , number] = view.cells;
  setText(queue, row.queue);
  number.replaceChildren();
  if (row.vip) {
    const mark = document.createElement("span");
    mark.className = "vip";
    mark.textContent = t("vip");
    number.append(mark);
  }
  number.append(row.caller + (row.callback ? ` (${t("callback")})` : ""));
  if (!known) {  // binary search for its place, insert the one row
    let lo = 0, hi = callerList.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (callerOrder(callers.get(callerList[mid]), row) < 0) lo = mid + 1; else hi = mid;
    }
    const body = $("#callers .rows");
    body.insertBefore(view.tr, lo < callerList.length ? callerRows.get(callerList[lo]).tr : null);
    callerList.splice(lo, 0, key);
    watch(view.tr);
  }
  positionsStale = true;
}

function dropCaller(key) {
  if (!callers.has(key)) return;
  callers.delete(key);
  unwatch(callerRows.get(key).tr);
  callerRows.get(key).tr.remove();
  callerRows.delete(key);
  callerList.splice(callerList.indexOf(key), 1);
  positionsStale = true;
}

function tickCaller(key, now) {
  const row = callers.get(key), view = callerRows.get(key);
  const waited = now - row.arrived_at;
  setText(view.cells[3], duration(waited));
  const limit = queues.get(row.queue)?.sl_seconds ?? 0;
  const late = limit > 0 && waited > limit;
  if (view.late !== late) { view.late = late; view.tr.classList.toggle("late", late); }
}

function tickCallers(now) {
  if (positionsStale) {  // positions: the rank in the queue's service order
    let queue = null, position = 0;
    for (const key of callerList) {
      const row = callers.get(key);
      position = row.queue === queue ? position + 1 : 1;
      queue = row.queue;
      setText(callerRows.get(key).cells[1], String(position));
    }
    positionsStale = false;
  }
  for (const tr of onScreen) {
    if (tr.dataset.caller !== undefined && callers.has(tr.dataset.caller)) tickCaller(tr.dataset.caller, now);
  }
  setText($("#caller-count"), String(callerList.length));
}

// queue tiles
const TILE_FIGURES = [
  ["waiting", (q) => String(q.waiting)], ["longest", null],
  ["available", (q) => String(q.available)], ["on-call", (q) => String(q.on_call)],
  ["wrap-up", (q) => String(q.wrap_up)], ["paused", (q) => String(q.paused)],
  ["offered", (q) => String(q.offered)], ["answered", (q) => String(q.answered)],
  ["abandoned", (q) => String(q.abandoned)], ["serviceLevel", (q) => percent(q.service_level)],
  ["asa", (q) => seconds(q.asa)], ["aht", (q) => seconds(q.aht)],
  ["survey", (q) => `${q.survey["1"]}/${q.survey["2"]}/${q.survey["3"]}`],
];

function makeTile(name) {
  const div = document.createElement("div");
  div.className = "tile";
  div.dataset.queue = name;
  const h = document.createElement("h3");
  h.textContent = name;
  const dl = document.createElement("dl");
  const terms = [], values = [];
  for (const [key] of TILE_FIGURES) {
    const dt = document.createElement("dt"), dd = document.createElement("dd");
    dd.className = key;
    dl.append(dt, dd);
    terms.push([dt, key]);
    values.push(dd);
  }
  div.append(h, dl);
  const tile = {
    div, values, late: false,
    label() { for (const [dt, key] of terms) dt.textContent = t(key); },
  };
  tile.label();
  // in name order
  const box = $("#queues");
  const before = [...box.children].find((other) => other.dataset.queue > name) ?? null;
  box.insertBefore(div, before);
  return tile;
}

function putQueue(row) {
  queues.set(row.name, row);
  let tile = tiles.get(row.name);
  if (!tile) { tile = makeTile(row.name); tiles.set(row.name, tile); }
  TILE_FIGURES.forEach(([, figure], i) => { if (figure) setText(tile.values[i], figure(row)); });
  tickQueue(row.name, serverNow());
}

function tickQueue(name, now) {
  const row = queues.get(name), tile = tiles.get(name);
  const longest = row.oldest_arrived_at ? now - row.oldest_arrived_at : 0;
  setText(tile.values[1], row.oldest_arrived_at ? duration(longest) : "–");
  const late = row.sl_seconds > 0 && longest > row.sl_seconds;
  if (tile.late !== late) { tile.late = late; tile.div.classList.toggle("late", late); }
}

function dropQueue(name) {
  queues.delete(name);
  tiles.get(name)?.div.remove();
  tiles.delete(name);
}

// -- the stream --------------------------------------------------------------------

function clearAll() {
  for (const id of [...agents.keys()]) dropAgent(id);
  for (const key of [...callers.keys()]) dropCaller(key);
  for (const name of [...queues.keys()]) dropQueue(name);
}

function apply(message) {
  const started = performance.now();
  offset = message.now - Date.now() / 1000;
  if (message.type === "snapshot") {
    clearAll();
    stats.snapshots += 1;
  } else {
    stats.deltas += 1;
  }
  stats.seq = message.seq;
  const gone = message.gone ?? {};
  for (const name of gone.queues ?? []) dropQueue(name);
  for (const id of gone.agents ?? []) dropAgent(id);
  for (const key of gone.callers ?? []) dropCaller(key);
  for (const row of Object.values(message.queues ?? {})) putQueue(row);
  const ids = Object.keys(message.agents ?? {});
  if (message.type === "snapshot") ids.sort(agentOrder);
  for (const id of ids) putAgent(message.agents[id]);
  for (const [key, row] of Object.entries(message.callers ?? {})) putCaller(key, row);
  tickCallers(serverNow());
  setText($("#agent-count"), String(agents.size));
  stats.applyMs.push(performance.now() - started);
  if (stats.applyMs.length > 1000) stats.applyMs.shift();
}

function tick() {
  const now = serverNow();
  for (const tr of onScreen) {
    if (tr.dataset.agent !== undefined && agents.has(tr.dataset.agent)) tickAgent(tr.dataset.agent, now);
  }
  for (const name of tiles.keys()) tickQueue(name, now);
  tickCallers(now);
}

function setStatus(state) {
  const status = $("#status");
  status.dataset.state = state;
  status.textContent = t(state);
}

let socket = null;
let retry = 500;
// the tests' way to cut the connection as a network would (the page reconnects)
stats.drop = () => socket?.close();

function connect() {
  const token = sessionStorage.getItem("acd.token");
  if (!token) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/api/live`);
  socket = ws;
  // the token goes in the first message, never in the URL (which servers log)
  ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token }));
  ws.onmessage = (event) => {
    retry = 500;
    setStatus("live");
    apply(JSON.parse(event.data));
  };
  ws.onclose = (event) => {
    if (socket !== ws) return;
    socket = null;
    if (event.code === 4401 || event.code === 4403) { signOut(); return; }
    setStatus("reconnecting");
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 5000);
  };
}

// -- the frame (shell.js): login, sign-out, language -----------------------------------

function signedOut() {
  const ws = socket;
  socket = null;
  ws?.close();
  clearAll();
  select(null);
  setStatus("offline");
}

consolePage({
  least: "supervisor", ready: connect, signedOut, translated,
  start: () => {
    wireActions();
    setInterval(tick, 1000);
  },
});
