// The statement browser: GET <xapi>/statements with filters, paging through `more`, and each
// statement's JSON exactly as the LRS returns it. For people debugging an LMS integration.

import { ApiError, credential, forgetCredential, request, saveCredential, url } from "./api.js";
import { el, setStatus } from "./ui.js";

const $ = (id) => document.getElementById(id);
const XAPI = (document.querySelector('meta[name="lrs-xapi-path"]').content || "").replace(/\/$/, "");
const HEADERS = { "X-Experience-API-Version": "2.0.0" };
const VERBS = [
  "http://adlnet.gov/expapi/verbs/launched", "http://adlnet.gov/expapi/verbs/initialized",
  "http://adlnet.gov/expapi/verbs/progressed", "http://adlnet.gov/expapi/verbs/completed",
  "http://adlnet.gov/expapi/verbs/passed", "http://adlnet.gov/expapi/verbs/failed",
  "http://adlnet.gov/expapi/verbs/terminated", "http://adlnet.gov/expapi/verbs/registered",
  "http://adlnet.gov/expapi/verbs/experienced", "http://adlnet.gov/expapi/verbs/answered",
  "http://adlnet.gov/expapi/verbs/voided", "https://w3id.org/xapi/adl/verbs/satisfied",
  "https://w3id.org/xapi/adl/verbs/abandoned", "https://w3id.org/xapi/adl/verbs/waived",
  "https://w3id.org/xapi/video/verbs/played", "https://w3id.org/xapi/tla/verbs/assigned",
  "http://activitystrea.ms/request", "http://activitystrea.ms/approve",
  "https://w3id.org/xapi/dod-isd/verbs/published", "http://id.tincanapi.com/verb/closed-sale",
];

let shown = 0;
let selected = null;

function showLogin(message) {
  $("main").hidden = true;
  $("signout").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  document.body.dataset.state = "login";
  $("login-key").focus();
}

function showBrowser() {
  $("login").hidden = true;
  $("main").hidden = false;
  $("signout").hidden = false;
}

// ------------------------------------------------------------------ query

// The agent filter: an e-mail address (or mailto: IRI) becomes an mbox Agent; else JSON.
export function parseAgent(text) {
  const value = text.trim();
  if (!value) return null;
  if (value.startsWith("{")) {
    let agent;
    try {
      agent = JSON.parse(value);
    } catch (err) {
      throw new Error(`The agent is not valid JSON: ${err.message}`);
    }
    if (!agent || typeof agent !== "object" || Array.isArray(agent)) throw new Error("The agent must be a JSON object.");
    return agent;
  }
  if (/^(mailto:)?[^\s@]+@[^\s@]+$/i.test(value)) {
    return { mbox: value.toLowerCase().startsWith("mailto:") ? `mailto:${value.slice(7)}` : `mailto:${value}` };
  }
  throw new Error("Give the agent as an e-mail address or as JSON, e.g. {\"mbox\": \"mailto:jane@example.com\"}.");
}

function utc(local) {
  if (!local) return null;
  return `${local.length === 16 ? `${local}:00` : local}Z`;
}

function query() {
  const q = {};
  const agent = parseAgent($("q-agent").value);
  if (agent) q.agent = JSON.stringify(agent);
  if ($("q-verb").value.trim()) q.verb = $("q-verb").value.trim();
  if ($("q-activity").value.trim()) q.activity = $("q-activity").value.trim();
  if ($("q-related").checked) q.related_activities = "true";
  const since = utc($("q-since").value);
  const until = utc($("q-until").value);
  if (since) q.since = since;
  if (until) q.until = until;
  if ($("q-ascending").checked) q.ascending = "true";
  q.limit = $("q-limit").value;
  return q;
}

// ------------------------------------------------------------------ results

// "2024-03-01T10:00:00.123Z" -> "2024-03-01 10:00:00" (the column heading says UTC).
function shortTime(value) {
  if (!value) return "–";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  return d.toISOString().slice(0, 19).replace("T", " ");
}

function langText(map) {
  if (!map || typeof map !== "object") return null;
  return map["en-US"] || map.en || Object.values(map)[0] || null;
}

function actorText(actor) {
  if (!actor) return "–";
  if (actor.name) return actor.name;
  if (actor.mbox) return actor.mbox.replace(/^mailto:/, "");
  if (actor.account) return `${actor.account.name} (${actor.account.homePage})`;
  if (actor.openid) return actor.openid;
  if (actor.mbox_sha1sum) return `sha1:${actor.mbox_sha1sum.slice(0, 10)}…`;
  return actor.objectType || "Group";
}

function objectText(object) {
  if (!object) return "–";
  if (object.objectType === "StatementRef") return `statement ${object.id}`;
  if (object.objectType === "Agent" || object.objectType === "Group") return actorText(object);
  if (object.objectType === "SubStatement") return "sub-statement";
  return langText(object.definition && object.definition.name) || object.id;
}

function resultText(result) {
  if (!result) return "";
  const parts = [];
  if (result.score && typeof result.score.scaled === "number") parts.push(`score ${(result.score.scaled * 100).toFixed(0)} %`);
  else if (result.score && typeof result.score.raw === "number") parts.push(`score ${result.score.raw}`);
  if (result.success === true) parts.push("success");
  if (result.success === false) parts.push("no success");
  if (result.completion === true) parts.push("complete");
  if (result.duration) parts.push(result.duration);
  return parts.join(", ");
}

function select(row, statement) {
  if (selected) selected.setAttribute("aria-selected", "false");
  selected = row;
  row.setAttribute("aria-selected", "true");
  $("json").textContent = JSON.stringify(statement, null, 2);
  $("json-hint").textContent = `Statement ${statement.id}`;
}

function addRows(statements) {
  const body = document.querySelector("#results tbody");
  for (const statement of statements) {
    const verb = statement.verb || {};
    const row = el("tr", { tabindex: "0", "aria-selected": "false", dataset: { id: statement.id } },
      el("td", { class: "time" }, shortTime(statement.stored)),
      el("td", { class: "time" }, shortTime(statement.timestamp)),
      el("td", {}, actorText(statement.actor)),
      el("td", { title: verb.id }, langText(verb.display) || (verb.id || "").split("/").pop()),
      el("td", { title: statement.object && statement.object.id }, objectText(statement.object)),
      el("td", {}, resultText(statement.result)));
    row.addEventListener("click", () => select(row, statement));
    row.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        select(row, statement);
      }
    });
    body.append(row);
  }
  shown += statements.length;
}

async function load(target) {
  const main = $("main");
  main.dataset.state = "loading";
  $("q-submit").disabled = true;
  $("more").disabled = true;
  setStatus($("status"), "Loading…");
  try {
    const body = await request(target, { headers: HEADERS });
    addRows(body.statements || []);
    const more = body.more || "";
    $("more").hidden = !more;
    $("more").dataset.more = more;
    $("count").textContent = `(${shown}${more ? ", more available" : ""})`;
    setStatus($("status"), shown ? "" : "No statement matches these filters.");
    main.dataset.state = "ready";
  } catch (err) {
    main.dataset.state = "error";
    if (err instanceof ApiError && err.status === 401) {
      forgetCredential();
      showLogin(`Sign-in failed: ${err.message}`);
      return;
    }
    if (err instanceof ApiError && err.status === 403) {
      setStatus($("status"), "This credential may not read statements: it needs the statements/read " +
        "scope (or all/read, all). " + err.message, true);
      return;
    }
    setStatus($("status"), err.message, true);
  } finally {
    $("q-submit").disabled = false;
    $("more").disabled = false;
  }
}

function search(event) {
  if (event) event.preventDefault();
  let q;
  try {
    q = query();
  } catch (err) {
    setStatus($("status"), err.message, true);
    $("main").dataset.state = "error";
    return;
  }
  document.querySelector("#results tbody").replaceChildren();
  shown = 0;
  selected = null;
  $("json").textContent = "";
  $("json-hint").textContent = "Select a statement to see it exactly as the LRS returns it.";
  load(url(`${XAPI}/statements`, q));
}

function more() {
  const link = $("more").dataset.more;
  if (link) load(new URL(link, location.origin));
}

function init() {
  $("endpoint").textContent = `${XAPI}/statements`;
  $("verbs").replaceChildren(...VERBS.map((v) => el("option", { value: v })));
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    saveCredential($("login-key").value.trim(), $("login-secret").value);
    showBrowser();
    search();
  });
  $("signout").addEventListener("click", () => {
    forgetCredential();
    showLogin("Signed out.");
  });
  $("query").addEventListener("submit", search);
  $("q-clear").addEventListener("click", () => {
    $("query").reset();
    search();
  });
  $("more").addEventListener("click", more);
  if (credential()) {
    showBrowser();
    search();
  } else {
    showLogin("");
  }
}

init();
