// What the views share: defaults derived from the filters, view-level controls, headings.

import { el } from "../ui.js";

// The program the filters chose, else the first program with learners (a view that needs one).
export function chosenProgram(ctx) {
  const scopes = ctx.options.scopes || [];
  const chosen = scopes.find((s) => s.id === ctx.filters.program);
  if (chosen) return { scope: chosen, fromFilter: true };
  const first = scopes.find((s) => s.kind === "program") || scopes[0];
  return { scope: first || null, fromFilter: false };
}

export function scopeName(ctx, id) {
  const found = (ctx.options.scopes || []).find((s) => s.id === id);
  return found ? found.name : id;
}

function isoDay(d) {
  return d.toISOString().slice(0, 10);
}

// The period the filters chose, else the last `months` whole calendar months before the last
// event (outcomes are usually monthly or quarterly).
export function chosenPeriod(ctx, months = 3) {
  const { from, to } = ctx.filters;
  const last = (ctx.options.events && ctx.options.events.last) || new Date().toISOString();
  const lastDay = new Date(`${last.slice(0, 10)}T00:00:00Z`);
  const monthStart = new Date(Date.UTC(lastDay.getUTCFullYear(), lastDay.getUTCMonth(), 1));
  const defaultEnd = new Date(monthStart.getTime() - 86400000);
  const defaultStart = new Date(Date.UTC(monthStart.getUTCFullYear(), monthStart.getUTCMonth() - months, 1));
  return {
    start: from || isoDay(defaultStart),
    end: to || isoDay(defaultEnd),
    fromFilter: Boolean(from || to),
  };
}

// A labelled control; `options` as [value, label] pairs makes a select, else an input.
export function control(id, label, options, value, attrs = {}) {
  let input;
  if (options) {
    input = el("select", { id, ...attrs }, options.map(([v, text]) => el("option", { value: v }, text)));
  } else {
    input = el("input", { id, ...attrs });
  }
  if (value !== undefined && value !== null) input.value = String(value);
  return { node: el("div", { class: "field" }, el("label", { for: id }, label), input), input };
}

export function head(title, description, ...controls) {
  return el("div", { class: "panel-head" },
    el("div", {}, el("h2", {}, title), description ? el("p", { class: "status" }, description) : null),
    el("div", { class: "controls" }, controls));
}

export function notes(items, cls = "notice") {
  return (items || []).map((text) => el("p", { class: cls, role: "note" }, text));
}

export function teamQuery(ctx) {
  return ctx.filters.team ? [ctx.filters.team] : undefined;
}
