// The dashboard page: sign-in, the filters every view shares, the tabs, and the views.

import { ApiError, credential, forgetCredential, request, saveCredential } from "./api.js";
import { dateText, el, fillSelect, setStatus } from "./ui.js";
import * as kpis from "./views/kpis.js";
import * as okrs from "./views/okrs.js";
import * as proficiency from "./views/proficiency.js";
import * as friction from "./views/friction.js";
import * as outcomes from "./views/outcomes.js";
import * as measures from "./views/measures.js";

const VIEWS = { kpis, okrs, proficiency, friction, outcomes, measures };
const FILTERS = "lrs.filters";

const $ = (id) => document.getElementById(id);

const state = {
  options: null,
  filters: { from: "", to: "", program: "", team: "" },
  active: "kpis",
  stale: new Set(Object.keys(VIEWS)),
  tokens: {},
};

// ------------------------------------------------------------------ sign-in

function showLogin(message) {
  $("app").hidden = true;
  $("signout").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  document.body.dataset.state = "login";
  $("login-key").focus();
}

function authMessage(err) {
  if (err.status === 401) return `Sign-in failed: ${err.message}`;
  if (err.status === 403) {
    return "This credential may not read analytics: it needs the analytics/read scope " +
      "(or all/read, all). Ask for one with `lrs credentials create --scopes analytics/read`.";
  }
  return err.message;
}

async function signIn(event) {
  event.preventDefault();
  const key = $("login-key").value.trim();
  const secret = $("login-secret").value;
  saveCredential(key, secret);
  $("login-submit").disabled = true;
  try {
    await start();
  } finally {
    $("login-submit").disabled = false;
  }
}

function signOut() {
  forgetCredential();
  $("login-secret").value = "";
  showLogin("Signed out.");
}

// ------------------------------------------------------------------ as-of

export function showAsOf(body) {
  if (!body || !("as_of" in body)) return;
  const hwm = body.high_water_mark;
  const text = body.as_of
    ? `Data as of ${dateText(body.as_of)}` + (hwm ? ` · statements stored up to ${dateText(hwm.stored)}` : "")
    : "No analytics sync yet";
  $("asof").textContent = text;
  $("asof").dataset.asOf = body.as_of || "";
}

// ------------------------------------------------------------------ filters

function loadFilters() {
  try {
    Object.assign(state.filters, JSON.parse(sessionStorage.getItem(FILTERS) || "{}"));
  } catch {
    /* keep the defaults */
  }
}

function storeFilters() {
  sessionStorage.setItem(FILTERS, JSON.stringify(state.filters));
}

function fillFilters() {
  const options = state.options;
  const scopes = options.scopes || [];
  const label = (s) => `${s.name} (${s.kind}, ${s.learners} learners)`;
  const programs = scopes.filter((s) => s.kind === "program");
  const courses = scopes.filter((s) => s.kind !== "program");
  const select = $("filter-program");
  select.replaceChildren(
    el("option", { value: "" }, "All programs"),
    programs.length ? el("optgroup", { label: "Programs" }, programs.map((s) => el("option", { value: s.id }, label(s)))) : null,
    courses.length ? el("optgroup", { label: "Courses and modules" }, courses.map((s) => el("option", { value: s.id }, label(s)))) : null,
  );
  if (scopes.some((s) => s.id === state.filters.program)) select.value = state.filters.program;
  else state.filters.program = "";
  fillSelect($("filter-team"), [["", "All teams"], ...(options.teams || []).map((t) => [t.name, `${t.name} (${t.people})`])], false);
  if ((options.teams || []).some((t) => t.name === state.filters.team)) $("filter-team").value = state.filters.team;
  else state.filters.team = "";
  $("filter-from").value = state.filters.from || "";
  $("filter-to").value = state.filters.to || "";
  const events = options.events || {};
  if (events.first) {
    $("filter-from").min = $("filter-to").min = events.first.slice(0, 10);
    $("filter-from").max = $("filter-to").max = events.last.slice(0, 10);
  }
}

function readFilters() {
  const from = $("filter-from").value;
  const to = $("filter-to").value;
  if (from && to && from > to) {
    setStatus($("filter-status"), "The period's start is after its end.", true);
    return false;
  }
  setStatus($("filter-status"), "");
  state.filters = { from, to, program: $("filter-program").value, team: $("filter-team").value };
  storeFilters();
  return true;
}

function filtersChanged() {
  if (!readFilters()) return;
  state.stale = new Set(Object.keys(VIEWS));
  renderActive();
}

// ------------------------------------------------------------------ tabs and views

function activate(name, focus = false) {
  if (!VIEWS[name]) name = "kpis";
  state.active = name;
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    const selected = tab.id === `tab-${name}`;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    if (selected && focus) tab.focus();
  }
  for (const panel of document.querySelectorAll('[role="tabpanel"]')) panel.hidden = panel.id !== `panel-${name}`;
  if (location.hash !== `#${name}`) history.replaceState(null, "", `#${name}`);
  renderActive();
}

function onTabKey(event) {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const index = tabs.indexOf(event.target);
  let next = null;
  if (event.key === "ArrowRight") next = tabs[(index + 1) % tabs.length];
  else if (event.key === "ArrowLeft") next = tabs[(index - 1 + tabs.length) % tabs.length];
  else if (event.key === "Home") next = tabs[0];
  else if (event.key === "End") next = tabs[tabs.length - 1];
  if (next) {
    event.preventDefault();
    activate(next.id.slice(4), true);
  }
}

async function renderActive() {
  const name = state.active;
  if (!state.options || !state.stale.has(name)) return;
  state.stale.delete(name);
  const panel = $(`panel-${name}`);
  const token = (state.tokens[name] || 0) + 1;
  state.tokens[name] = token;
  const current = () => state.tokens[name] === token;
  panel.dataset.state = "loading";
  panel.setAttribute("aria-busy", "true");
  const ctx = {
    filters: { ...state.filters },
    options: state.options,
    showAsOf,
    // False once a newer render of the same view started: the older one must not draw.
    current,
    rerender: () => {
      state.stale.add(name);
      renderActive();
    },
  };
  try {
    await VIEWS[name].render(panel, ctx);
    if (current()) panel.dataset.state = "ready";
  } catch (err) {
    if (!current()) return;
    if (err instanceof ApiError && (err.status === 401)) {
      forgetCredential();
      showLogin(authMessage(err));
      return;
    }
    panel.dataset.state = "error";
    panel.replaceChildren(el("p", { class: "error", role: "alert" }, authMessage(err)));
    console.warn(err);
  } finally {
    panel.removeAttribute("aria-busy");
  }
}

// ------------------------------------------------------------------ start

async function start() {
  if (!credential()) {
    showLogin("");
    return;
  }
  document.body.dataset.state = "loading";
  try {
    state.options = await request("dashboard/api/options");
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      state.options = { scopes: [], teams: [], outcome_metrics: [], events: {} };
      $("login").hidden = true;
      $("app").hidden = false;
      $("signout").hidden = false;
      document.body.dataset.state = "empty";
      $("main").replaceChildren(el("p", { class: "notice", role: "alert" }, err.message));
      return;
    }
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      forgetCredential();
      showLogin(authMessage(err));
      return;
    }
    showLogin(err.message);
    return;
  }
  showAsOf(state.options);
  $("login").hidden = true;
  $("app").hidden = false;
  $("signout").hidden = false;
  document.body.dataset.state = "ready";
  fillFilters();
  state.stale = new Set(Object.keys(VIEWS));
  activate((location.hash || "#kpis").slice(1));
}

function init() {
  loadFilters();
  $("login-form").addEventListener("submit", signIn);
  $("signout").addEventListener("click", signOut);
  for (const id of ["filter-from", "filter-to", "filter-program", "filter-team"]) {
    $(id).addEventListener("change", filtersChanged);
  }
  $("filter-reset").addEventListener("click", () => {
    state.filters = { from: "", to: "", program: "", team: "" };
    fillFilters();
    filtersChanged();
  });
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    tab.addEventListener("click", () => activate(tab.id.slice(4)));
    tab.addEventListener("keydown", onTabKey);
  }
  window.addEventListener("hashchange", () => activate(location.hash.slice(1)));
  start();
}

init();
