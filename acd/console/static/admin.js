// What the console's recordings, flows and users pages share: the language, logging in
// (the same session as the wallboard: sessionStorage), and calling the API. Each page
// calls adminPage({least, ready}). Plain JS, no build step, nothing from elsewhere.
"use strict";

const $ = (sel) => document.querySelector(sel);
const RANK = { agent: 1, supervisor: 2, admin: 3 };
let lang = localStorage.getItem("acd.lang") === "en" ? "en" : "zh";
const t = (key) => WORDS[lang][key] ?? key;
const page = { least: "admin", ready: () => {}, translated: () => {} };

function translate() {
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll("[data-i18n]")) {
    node.textContent = t(node.dataset.i18n);
  }
  $("#lang").textContent = t("switchTo");
  document.title = t(document.body.dataset.title);
  page.translated();
}

function token() { return sessionStorage.getItem("acd.token") ?? ""; }

// {status, ok, body}; a 401 (logged out, password changed) shows the login again
async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${token()}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (response.status === 401) signOut();
  return { status: response.status, ok: response.ok, body: answer };
}

function show(role, user) {
  $("#login").hidden = true;
  $("#logout").hidden = false;
  $("#who").textContent = user;
  const allowed = (RANK[role] ?? 0) >= RANK[page.least];
  $("#refused").hidden = allowed;
  $("#page").hidden = !allowed;
  if (allowed) page.ready(role);
}

function signOut() {
  const old = token();
  sessionStorage.clear();
  if (old) {
    fetch("/api/logout", { method: "POST", headers: { Authorization: `Bearer ${old}` } })
      .catch(() => {});
  }
  $("#page").hidden = true;
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

function adminPage(options) {
  Object.assign(page, options);
  document.addEventListener("DOMContentLoaded", () => {
    $("#login").addEventListener("submit", logIn);
    $("#logout").addEventListener("click", signOut);
    $("#lang").addEventListener("click", () => {
      lang = lang === "zh" ? "en" : "zh";
      localStorage.setItem("acd.lang", lang);
      translate();
    });
    translate();
    const role = sessionStorage.getItem("acd.role");
    if (token() && role) show(role, sessionStorage.getItem("acd.user") ?? "");
  });
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}
