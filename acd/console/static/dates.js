// Company dates of the schedules (admins): each schedule's state now and through a
// chosen day, its company dates (from config.yaml or added here), one added or removed
// at a time. acd decides the next call with them and keeps them across restarts.
"use strict";

let schedules = [];

function chosen() { return $("#schedule").value; }

function showState(view) {
  $("#now-state").textContent = t(view.now.state);
  $("#now-state").dataset.state = view.now.state;
  $("#now-reason").textContent = `(${view.now.reason})`;
  const day = $("#day");
  day.textContent = "";
  for (const part of view.day) {
    const li = day.appendChild(element("li", `${view.date} ${part.from} ${t(part.state)} — ${part.reason}`));
    li.dataset.state = part.state;
  }
}

function dateRow(entry) {
  const tr = element("div", undefined, "row");
  tr.setAttribute("role", "row");
  tr.dataset.date = entry.from;
  for (const text of [entry.from, entry.to, t(entry.state), (entry.hours ?? []).join(", "),
                      entry.label, t(entry.source)]) {
    tr.appendChild(element("div", text));
  }
  const remove = tr.appendChild(element("div")).appendChild(element("button", t("remove"), "remove"));
  remove.type = "button";
  remove.addEventListener("click", async () => {
    const to = entry.to !== entry.from ? `?to=${entry.to}` : "";
    const answer = await api("DELETE", `/api/schedules/${encodeURIComponent(chosen())}/dates/${entry.from}${to}`);
    report(answer, "removed");
    if (answer.ok) await showSchedule();
  });
  return tr;
}

async function showSchedule() {
  const name = chosen();
  if (!name) return;
  const day = $("#check-date").value;
  const answer = await api("GET", `/api/schedules/${encodeURIComponent(name)}${day ? `?date=${day}` : ""}`);
  if (!answer.ok) { report(answer); return; }
  showState(answer.body);
  if (!day) $("#check-date").value = answer.body.date;
  const rows = $("#dates .rows");
  rows.textContent = "";
  for (const entry of answer.body.dates) rows.appendChild(dateRow(entry));
}

async function listSchedules() {
  const answer = await api("GET", "/api/schedules");
  if (!answer.ok) { report(answer); return; }
  schedules = answer.body.schedules.map((s) => s.name);
  const select = $("#schedule");
  const before = select.value;
  select.textContent = "";
  for (const name of schedules) select.appendChild(element("option", name)).value = name;
  if (schedules.includes(before)) select.value = before;
  await showSchedule();
}

async function addDate(event) {
  event.preventDefault();
  const form = event.target;
  const body = { state: form.state.value };
  if (form.to.value && form.to.value !== form.date.value) {
    Object.assign(body, { from: form.date.value, to: form.to.value });
  } else {
    body.date = form.date.value;
  }
  if (form.hours.value.trim()) body.hours = form.hours.value.trim();
  if (form.label.value.trim()) body.label = form.label.value.trim();
  const answer = await api("POST", `/api/schedules/${encodeURIComponent(chosen())}/dates`, body);
  report(answer, "saved");
  if (answer.ok) {
    $("#check-date").value = answer.body.date;
    form.label.value = "";
    form.hours.value = "";
    await showSchedule();
  }
}

consolePage({
  least: "admin", ready: listSchedules,
  start: () => {
    $("#schedule").addEventListener("change", () => { $("#check-date").value = ""; showSchedule(); });
    $("#check-date").addEventListener("change", showSchedule);
    $("#add-date").addEventListener("submit", addDate);
  },
  translated: () => { if (chosen()) showSchedule(); },
});
