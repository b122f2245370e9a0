// Queue and agent settings (admins): those safe to change while acd runs. A save goes to
// the routing core at once (waiting callers, agents' states and statistics stay) and
// is kept across restarts; "reset" brings back config.yaml's. Fields changed here are
// marked.
"use strict";

const QUEUE_NUMBERS = ["service_level_seconds", "wrap_up_seconds", "ring_timeout_seconds",
  "max_wait_seconds"];

function field(name, value, changed) {
  const input = element("input");
  input.name = name;
  input.value = value ?? "";
  input.size = 8;
  if (changed.includes(name)) input.classList.add("changed");
  return input;
}

function buttons(onSave, onReset, changed) {
  const cell = element("div");
  const save = cell.appendChild(element("button", t("save"), "save"));
  save.type = "button";
  save.dataset.i18n = "save";
  save.addEventListener("click", onSave);
  if (changed.length) {
    const reset = cell.appendChild(element("button", t("reset"), "reset"));
    reset.type = "button";
    reset.dataset.i18n = "reset";
    reset.addEventListener("click", onReset);
  }
  return cell;
}

async function saved(answer, word) {
  report(answer, word);
  if (answer.ok) await loadSettings();
}

function queueRow(queue, strategies) {
  const tr = element("div", undefined, "row");
  tr.setAttribute("role", "row");
  tr.dataset.queue = queue.name;
  tr.appendChild(element("div", queue.name));
  const select = element("select");
  select.name = "strategy";
  for (const s of strategies) select.appendChild(element("option", s)).value = s;
  select.value = queue.strategy;
  if (queue.changed.includes("strategy")) select.classList.add("changed");
  tr.appendChild(element("div")).appendChild(select);
  for (const name of QUEUE_NUMBERS) {
    const input = tr.appendChild(element("div")).appendChild(field(name, queue[name], queue.changed));
    if (name === "max_wait_seconds" && !queue.max_wait_target) input.disabled = true;
  }
  const path = `/api/settings/queues/${encodeURIComponent(queue.name)}`;
  tr.appendChild(buttons(async () => {
    const body = {};
    if (select.value !== queue.strategy) body.strategy = select.value;
    for (const name of QUEUE_NUMBERS) {
      const input = tr.querySelector(`input[name=${name}]`);
      if (input.disabled || input.value === String(queue[name] ?? "")) continue;
      body[name] = input.value.trim() === "" ? null : Number(input.value);
      if (Number.isNaN(body[name])) body[name] = input.value;  // acd says what to write
    }
    await saved(await api("PATCH", path, body), "saved");
  }, async () => saved(await api("DELETE", path), "resetDone"), queue.changed));
  return tr;
}

function memberText(queues) {
  return Object.entries(queues).map(([q, p]) => `${q}:${p}`).join(", ");
}

function parseMembers(text) {
  const out = {};
  for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const [queue, penalty] = part.split(":").map((p) => p.trim());
    out[queue] = penalty === undefined || penalty === "" ? 0 : Number.isNaN(Number(penalty)) ? penalty : Number(penalty);
  }
  return out;
}

function agentRow(agent) {
  const tr = element("div", undefined, "row");
  tr.setAttribute("role", "row");
  tr.dataset.agent = agent.id;
  tr.appendChild(element("div", agent.id));
  const name = tr.appendChild(element("div")).appendChild(field("name", agent.name, agent.changed));
  const skills = tr.appendChild(element("div")).appendChild(field("skills", agent.skills.join(", "), agent.changed));
  const queues = tr.appendChild(element("div")).appendChild(field("queues", memberText(agent.queues), agent.changed));
  queues.size = 18;
  const path = `/api/settings/agents/${encodeURIComponent(agent.id)}`;
  tr.appendChild(buttons(async () => {
    const body = {};
    if (name.value !== agent.name) body.name = name.value;
    if (skills.value !== agent.skills.join(", ")) {
      body.skills = skills.value.split(",").map((s) => s.trim()).filter(Boolean);
    }
    if (queues.value !== memberText(agent.queues)) body.queues = parseMembers(queues.value);
    await saved(await api("PATCH", path, body), "saved");
  }, async () => saved(await api("DELETE", path), "resetDone"), agent.changed));
  return tr;
}

async function loadSettings() {
  const answer = await api("GET", "/api/settings");
  if (!answer.ok) { report(answer); return; }
  const queues = $("#queue-settings .rows");
  queues.textContent = "";
  for (const queue of answer.body.queues) queues.appendChild(queueRow(queue, answer.body.strategies));
  const agents = $("#agent-settings .rows");
  agents.textContent = "";
  for (const agent of answer.body.agents) agents.appendChild(agentRow(agent));
}

consolePage({ least: "admin", ready: loadSettings, translated: () => {} });
