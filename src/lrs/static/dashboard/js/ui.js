// Small DOM helpers shared by the pages: element builder, number/date formats, tables.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function fmt(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  if (typeof value !== "number") return String(value);
  if (Number.isInteger(value) && Math.abs(value) >= 1) return value.toLocaleString("en-US");
  return value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function pct(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return `${(value * 100).toFixed(digits)} %`;
}

export function pvalue(value) {
  if (value === null || value === undefined) return "–";
  return value < 0.001 ? "< 0.001" : value.toFixed(3);
}

export function dateText(value) {
  if (!value) return "–";
  return String(value).replace("T", " ").replace(/\.\d+/, "").replace("Z", " UTC");
}

// A table: columns are [key, heading, {numeric, format}] triples.
export function table(rows, columns, caption) {
  const head = el("tr", {}, columns.map(([, heading, o = {}]) =>
    el("th", { scope: "col", class: o.numeric ? "num" : null }, heading)));
  const body = rows.map((row) => el("tr", {}, columns.map(([key, , o = {}]) => {
    const raw = typeof key === "function" ? key(row) : row[key];
    const text = o.format ? o.format(raw, row) : fmt(raw);
    return el("td", { class: o.numeric ? "num" : null }, text);
  })));
  return el("div", { class: "table-wrap" },
    el("table", {}, caption ? el("caption", { class: "visually-hidden" }, caption) : null,
      el("thead", {}, head), el("tbody", {}, body)));
}

export function setStatus(node, message, isError = false) {
  node.textContent = message || "";
  node.classList.toggle("error", Boolean(isError));
}

// A select's options from [value, label] pairs, keeping the current value when still offered.
export function fillSelect(select, pairs, keep = true) {
  const current = select.value;
  clear(select);
  for (const [value, label] of pairs) select.append(el("option", { value }, label));
  if (keep && pairs.some(([value]) => value === current)) select.value = current;
}

export function field(id, labelText, control, hint) {
  control.id = id;
  const parts = [el("label", { for: id }, labelText), control];
  if (hint) {
    const hintId = `${id}-hint`;
    control.setAttribute("aria-describedby", hintId);
    parts.push(el("span", { id: hintId, class: "visually-hidden" }, hint));
  }
  return el("div", { class: "field" }, parts);
}
