// The frame every console page shares: the header (title, links to the other pages, who
// is logged in, the language switch, log out), the login form, the refusal shown to a
// role below the page's, and the session (sessionStorage: one login for every page).
// A page loads its words (WORDS), then this, then its own script, which calls
// consolePage({least, ready, signedOut, translated, start}). Its <body> names the
// title's and the refusal's words: data-title, data-refused; its content is the
// element #page (or the id in data-content), shown once the role is allowed. A page may
// start its <header> with its own elements (the wallboard's connection state).
"use strict";

const $ = (sel) => document.querySelector(sel);
const RANK = { agent: 1, supervisor: 2, admin: 3 };
const PAGES = [
  ["/console/", "wallboard"], ["/console/desk.html", "desk"],
  ["/console/recordings.html", "recordings"],
  ["/console/flows.html", "flows"], ["/console/users.html", "users"],
  ["/console/lists.html", "lists"], ["/console/dates.html", "companyDates"],
  ["/console/settings.html", "settings"],
  ["/console/announcement.html", "announcement"], ["/console/audit.html", "audit"],
];
const SHELL_WORDS = {
  zh: {
    login: "登录", username: "用户名", password: "密码", signIn: "登录", logout: "退出",
    badLogin: "用户名或密码错误", switchTo: "English", wallboard: "监控墙", desk: "坐席工作台",
    recordings: "录音", flows: "IVR 流程", users: "用户", lists: "黑白名单",
    companyDates: "公司日期", settings: "队列与坐席", announcement: "全局公告", audit: "操作审计",
    notAllowed: "此页面仅供管理员使用。", notAllowedRec: "此页面仅供班长和管理员使用。",
  },
  en: {
    login: "Log in", username: "User name", password: "Password", signIn: "Log in",
    logout: "Log out", badLogin: "Wrong user name or password", switchTo: "中文",
    desk: "Agent desk",
    wallboard: "Wallboard", recordings: "Recordings", flows: "IVR flows", users: "Users",
    lists: "Caller lists", companyDates: "Company dates", settings: "Queues & agents",
    announcement: "Announcement", audit: "Audit log",
    notAllowed: "This page is for admins.",
    notAllowedRec: "This page is for supervisors and admins.",
  },
};
let lang = localStorage.getItem("acd.lang") === "en" ? "en" : "zh";
const t = (key) => WORDS[lang][key] ?? SHELL_WORDS[lang][key] ?? key;
const shell = {
  least: "admin", ready: () => {}, signedOut: () => {}, translated: () => {}, start: () => {},
};

function token() { return sessionStorage.getItem("acd.token") ?? ""; }

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function worded(tag, key, attributes = {}) {
  const node = element(tag, t(key));
  node.dataset.i18n = key;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

function content() { return document.getElementById(document.body.dataset.content ?? "page"); }

function buildHeader() {
  let header = $("body > header");
  if (!header) {
    header = element("header");
    document.body.prepend(header);
  }
  header.prepend(worded("h1", document.body.dataset.title));
  const nav = element("nav");
  for (const [href, key] of PAGES) {
    if (href === location.pathname) continue;
    nav.append(worded("a", key, { href }), " ");
  }
  const who = element("span");
  who.id = "who";
  const switcher = element("button");
  switcher.id = "lang";
  switcher.type = "button";
  const logout = worded("button", "logout", { id: "logout", type: "button" });
  logout.hidden = true;
  header.append(nav, who, switcher, logout);
}

function buildLogin() {
  const form = element("form");
  form.id = "login";
  form.autocomplete = "on";
  form.append(worded("h2", "login"));
  for (const [name, type, autocomplete] of [["username", "text", "username"],
    ["password", "password", "current-password"]]) {
    const label = element("label");
    const input = element("input");
    Object.assign(input, { name, type, autocomplete, required: true });
    label.append(worded("span", name), input);
    form.append(label);
  }
  const error = element("p", "", "error");
  error.id = "login-error";
  error.setAttribute("role", "alert");
  form.append(worded("button", "signIn", { type: "submit" }), error);
  const refused = worded("p", document.body.dataset.refused ?? "notAllowed",
    { id: "refused", class: "error", role: "alert" });
  refused.hidden = true;
  $("main").prepend(form, refused);
}

function translate() {
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll("[data-i18n]")) {
    node.textContent = t(node.dataset.i18n);
  }
  $("#lang").textContent = t("switchTo");
  document.title = t(document.body.dataset.title);
  shell.translated();
}

function show(role, user) {
  $("#login").hidden = true;
  $("#logout").hidden = false;
  $("#who").textContent = user;
  const allowed = (RANK[role] ?? 0) >= RANK[shell.least];
  $("#refused").hidden = allowed;
  content().hidden = !allowed;
  if (allowed) shell.ready(role);
}

// also when acd answers 401 (logged out elsewhere, password changed): the login again
function signOut() {
  const old = token();
  sessionStorage.clear();
  if (old) {
    fetch("/api/logout", { method: "POST", headers: { Authorization: `Bearer ${old}` } })
      .catch(() => {});
  }
  shell.signedOut();
  content().hidden = true;
  $("#refused").hidden = true;
  $("#login").hidden = false;
  $("#logout").hidden = true;
  $("#who").textContent = "";
}

async function logIn(event) {
  event.preventDefault();
  const form = event.target;
  $("#login-error").textContent = "";
  const response = await fetch("/api/login", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: form.username.value, password: form.password.value }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    $("#login-error").textContent = response.status === 401 ? t("badLogin") : body.message;
    return;
  }
  form.password.value = "";
  sessionStorage.setItem("acd.token", body.token);
  sessionStorage.setItem("acd.role", body.role);
  sessionStorage.setItem("acd.user", form.username.value);
  show(body.role, form.username.value);
}

function consolePage(hooks) {
  Object.assign(shell, hooks);
}

document.addEventListener("DOMContentLoaded", () => {
  buildHeader();
  buildLogin();
  $("#login").addEventListener("submit", logIn);
  $("#logout").addEventListener("click", signOut);
  $("#lang").addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh";
    localStorage.setItem("acd.lang", lang);
    translate();
  });
  shell.start();
  translate();
  const role = sessionStorage.getItem("acd.role");
  if (token() && role) show(role, sessionStorage.getItem("acd.user") ?? "");
});
