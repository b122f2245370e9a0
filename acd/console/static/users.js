// Users and roles (admins): one row per user to change the role, agent, phone or
// password, or to remove the user; the last row adds one. acd revokes the sessions of a
// user whose role, password or phone changes, and refuses to lose the last admin.
"use strict";

const ROLES = ["agent", "supervisor", "admin"];

function input(name, value, type) {
  const node = element("input");
  node.name = name;
  node.value = value ?? "";
  if (type) node.type = type;
  return node;
}

function roleSelect(value) {
  const select = element("select");
  select.name = "role";
  for (const role of ROLES) {
    const option = select.appendChild(element("option", role));
    option.value = role;
  }
  select.value = value;
  return select;
}

function userRow(user) {
  const tr = element("div", undefined, "row");
  tr.setAttribute("role", "row");
  tr.dataset.user = user ? user.name : "";
  const name = tr.appendChild(element("div"));
  if (user) name.textContent = user.name; else name.appendChild(input("name", ""));
  tr.appendChild(element("div")).appendChild(roleSelect(user ? user.role : "agent"));
  tr.appendChild(element("div")).appendChild(input("agent", user?.agent));
  tr.appendChild(element("div")).appendChild(input("device", user?.device));
  tr.appendChild(element("div")).appendChild(input("password", "", "password"));
  const last = tr.appendChild(element("div", user ? `${user.source} ` : ""));
  const save = last.appendChild(element("button", t(user ? "save" : "add"), "save"));
  save.type = "button";
  save.addEventListener("click", () => store(tr, user));
  if (user) {
    const remove = last.appendChild(element("button", t("remove"), "remove"));
    remove.type = "button";
    remove.addEventListener("click", () => drop(user.name));
  }
  return tr;
}

async function store(tr, user) {
  const value = (name) => tr.querySelector(`[name=${name}]`).value.trim();
  const body = { role: value("role"), agent: value("agent"), device: value("device") };
  if (value("password")) body.password = value("password");
  let answer;
  if (user) {
    answer = await api("PATCH", `/api/users/${encodeURIComponent(user.name)}`, body);
  } else {
    answer = await api("POST", "/api/users", { name: value("name"), ...body });
  }
  report(answer, "saved");
  if (answer.ok) await listUsers();
}

async function drop(name) {
  const answer = await api("DELETE", `/api/users/${encodeURIComponent(name)}`);
  report(answer, "removed");
  if (answer.ok) await listUsers();
}

async function listUsers() {
  const answer = await api("GET", "/api/users");
  if (!answer.ok) { report(answer); return; }
  const rows = $("#users .rows");
  rows.textContent = "";
  for (const user of answer.body.users) rows.appendChild(userRow(user));
  rows.appendChild(userRow(null));
}

consolePage({ least: "admin", ready: listUsers, translated: () => {} });
