// Talking to the LRS: the credential (kept in this tab's sessionStorage only), HTTP Basic
// requests, errors with the server's message, and CSV downloads.

const STORE = "lrs.credential";

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export function credential() {
  try {
    const raw = sessionStorage.getItem(STORE);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

export function saveCredential(key, secret) {
  sessionStorage.setItem(STORE, JSON.stringify({ key, secret }));
}

export function forgetCredential() {
  sessionStorage.removeItem(STORE);
}

function authorization() {
  const c = credential();
  if (!c) return null;
  // btoa needs Latin-1: encode UTF-8 first so that any key or secret works.
  const bytes = new TextEncoder().encode(`${c.key}:${c.secret}`);
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return `Basic ${btoa(text)}`;
}

// Resolve a path such as "analytics/kpis" against the LRS root (the page lives in
// <root>/dashboard/), so the dashboard also works behind a proxy that adds a path prefix.
export function url(path, query) {
  const root = new URL("../", document.baseURI);
  const target = new URL(path.replace(/^\//, ""), root);
  for (const [name, value] of Object.entries(query || {})) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((v) => target.searchParams.append(name, v));
    else target.searchParams.set(name, String(value));
  }
  return target;
}

function describe(status, body, text) {
  const message = body && body.error && body.error.message;
  if (message) return message;
  if (status === 401) return "The key or secret is wrong, or the credential was revoked.";
  if (status === 403) return "This credential's scopes do not allow this request.";
  return text ? text.slice(0, 300) : `The LRS answered ${status}.`;
}

// One request. `options`: method, query, json (a body sent as JSON), headers, accept.
// Resolves to the parsed JSON (or text for non-JSON answers); rejects with ApiError.
export async function request(path, options = {}) {
  const headers = { Accept: options.accept || "application/json", ...(options.headers || {}) };
  const auth = authorization();
  if (auth) headers.Authorization = auth;
  const init = { method: options.method || "GET", headers, credentials: "omit", cache: "no-store" };
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.json);
  }
  // credentials "omit": the Authorization header above is sent, but the browser never pops up
  // its own Basic-auth dialog on a 401 (the page shows the sign-in form instead).
  const target = typeof path === "string" ? url(path, options.query) : path;
  const response = await fetch(target, init);
  const type = response.headers.get("content-type") || "";
  const text = await response.text();
  let body = null;
  if (type.includes("json") && text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  if (!response.ok) throw new ApiError(response.status, describe(response.status, body, text), body);
  return body !== null ? body : text;
}

// Fetch a CSV answer of an endpoint (same parameters, format=csv) and save it as a file.
export async function downloadEndpointCsv(path, options, filename) {
  const query = { ...(options.query || {}), format: "csv" };
  const text = await request(path, { ...options, query, accept: "text/csv" });
  saveText(filename, text, "text/csv");
  return text;
}

// CSV text of a table, like the server's (Python csv module, minimal quoting, \n lines).
export function toCsv(rows, columns) {
  const names = columns || (rows.length ? Object.keys(rows[0]) : []);
  const cell = (value) => {
    if (value === null || value === undefined) return "";
    let text;
    if (typeof value === "object") text = JSON.stringify(value);
    else if (typeof value === "boolean") text = value ? "true" : "false";
    else text = String(value);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const lines = [names.map(cell).join(",")];
  for (const row of rows) lines.push(names.map((n) => cell(row[n])).join(","));
  return lines.join("\n") + "\n";
}

export function saveText(filename, text, type) {
  const blob = new Blob([text], { type: `${type};charset=utf-8` });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

export function saveCsv(filename, rows, columns) {
  const text = toCsv(rows, columns);
  saveText(filename, text, "text/csv");
  return text;
}
