// OKR cards (ANALYTICS.md section 5): every stored objective (GET /analytics/okrs) with its
// report (GET /analytics/okrs/{id}): attainment per key result, the leading indicator (share of
// owners who completed the linked learning against the share of the period elapsed) and the
// at-risk flags with their reasons. Filters: the period shows the objectives whose period
// overlaps it ("To" is also the reference time); a team shows the key results that team owns;
// a program shows the key results linked to it.

import { downloadEndpointCsv, request } from "../api.js";
import { colour, draw, figure } from "../charts.js";
import { el, fmt, pct } from "../ui.js";
import { head } from "./common.js";

function overlaps(okr, from, to) {
  return (!from || okr.period.end >= from) && (!to || okr.period.start <= to);
}

function krMatches(kr, ctx) {
  if (ctx.filters.team && !(kr.owners && kr.owners.team === ctx.filters.team)) return false;
  if (ctx.filters.program && !(kr.linked_activities || []).includes(ctx.filters.program)) return false;
  return true;
}

function meter(share, label, cls = "") {
  const value = share === null || share === undefined ? 0 : Math.max(0, Math.min(1, share));
  const bar = el("div", { class: `meter ${cls}`, role: "meter", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(Math.round(value * 100)), "aria-label": label },
    el("span"));
  bar.firstChild.style.width = `${(value * 100).toFixed(1)}%`;
  return bar;
}

function keyResult(kr) {
  const lead = kr.leading_indicator;
  const status = kr.at_risk
    ? el("span", { class: "risk" }, "⚠ At risk")
    : kr.success
      ? el("span", { class: "ok" }, "✓ On track (success)")
      : el("span", { class: "ok" }, "✓ On pace");
  return el("div", { class: "kr", dataset: { krId: kr.id, atRisk: String(kr.at_risk) } },
    el("h4", {}, kr.name, " ", status),
    el("div", { class: "kr-grid" },
      el("span", {}, "Attainment"), meter(kr.attainment, `Attainment of ${kr.name}`), el("span", { class: "num" }, pct(kr.attainment)),
      el("span", {}, "Linked learning done"), meter(lead && lead.completion_share, `Owners who completed the linked learning, ${kr.name}`), el("span", { class: "num" }, lead ? pct(lead.completion_share) : "–"),
      el("span", {}, "Period elapsed"), meter(lead ? lead.elapsed_share : null, "Share of the period elapsed", "elapsed"), el("span", { class: "num" }, lead ? pct(lead.elapsed_share) : "–")),
    el("p", { class: "meta" }, `Value ${fmt(kr.value, 1)} (baseline ${fmt(kr.baseline)} → target ${fmt(kr.target)})` +
      (lead ? ` · ${lead.completed} of ${lead.owners} owners completed the linked learning` : "")),
    kr.reasons && kr.reasons.length ? el("ul", { class: "risk-reasons" }, kr.reasons.map((r) => el("li", {}, r))) : null);
}

function card(report, krs, index) {
  const okr = report.okr;
  const fig = figure({
    id: `okr-${okr.id}`,
    title: okr.objective,
    description: `${okr.period.start} – ${okr.period.end} · ${pct(report.elapsed_share)} elapsed · attainment ${pct(report.attainment)}${report.at_risk ? " · at risk" : ""}`,
    onCsv: () => downloadEndpointCsv(`analytics/okrs/${okr.id}`, { query: { at: report.at } }, `okr-${okr.id}.csv`),
    size: "small",
  });
  fig.node.classList.add("okr-card");
  fig.node.dataset.okrId = okr.id;
  fig.node.dataset.atRisk = String(report.at_risk);
  const labels = krs.map((kr) => (kr.name.length > 38 ? `${kr.name.slice(0, 36)}…` : kr.name));
  const paint = () => draw(fig.canvas, {
    type: "bar",
    data: {
      labels,
      datasets: [
        { label: "Attainment", data: krs.map((kr) => (kr.attainment === null ? null : kr.attainment * 100)), backgroundColor: krs.map((kr) => (kr.at_risk ? "#a4161a" : colour(0))) },
        { label: "Linked learning completed", data: krs.map((kr) => (kr.leading_indicator ? kr.leading_indicator.completion_share * 100 : null)), backgroundColor: colour(5) },
        { type: "scatter", label: "Period elapsed", data: krs.map((kr, i) => ({ x: report.elapsed_share * 100, y: labels[i] })), pointStyle: "line", rotation: 90, pointRadius: 14, borderWidth: 3, borderColor: "#1b1f24", backgroundColor: "#1b1f24" },
      ],
    },
    options: { indexAxis: "y", scales: { x: { min: 0, max: 100, title: { display: true, text: "%" } } } },
  });
  fig.setTable(krs.map((kr) => ({ ...kr, completion_share: kr.leading_indicator && kr.leading_indicator.completion_share })),
    [["name", "Key result"], ["value", "Value", { numeric: true }], ["attainment", "Attainment", { numeric: true, format: (v) => pct(v) }], ["completion_share", "Learning done", { numeric: true, format: (v) => pct(v) }], ["at_risk", "At risk", { format: (v) => (v ? "yes" : "no") }]]);
  fig.node.append(...krs.map(keyResult));
  return { node: fig.node, paint, index };
}

export async function render(panel, ctx) {
  const { okrs } = await request("analytics/okrs");
  const { from, to } = ctx.filters;
  const chosen = okrs.filter((o) => overlaps(o, from, to));
  const at = to || undefined;
  const reports = await Promise.all(chosen.map((o) => request(`analytics/okrs/${o.id}`, { query: { at } })));
  if (reports.length) ctx.showAsOf(reports[0]);
  const cards = [];
  for (const report of reports) {
    const krs = report.key_results.filter((kr) => krMatches(kr, ctx));
    if (krs.length) cards.push(card(report, krs, cards.length));
  }
  const atRisk = reports.flatMap((r) => r.key_results.filter((kr) => krMatches(kr, ctx) && kr.at_risk)).length;
  const filtered = [from || to ? "objectives whose period overlaps the chosen period" : null, ctx.filters.team ? `key results owned by ${ctx.filters.team}` : null, ctx.filters.program ? "key results linked to the chosen program" : null].filter(Boolean);
  const description = `${cards.length} objectives, ${atRisk} key results at risk. A key result is at risk when fewer of its owners completed the linked learning than the share of the period elapsed, or when attainment is behind a straight line to 0.7.` +
    (filtered.length ? ` Showing ${filtered.join("; ")}.` : "");
  const nodes = [
    head("OKRs", description),
    cards.length
      ? el("div", { class: "grid two", id: "okr-cards" }, cards.map((c) => c.node))
      : el("p", { class: "notice" }, okrs.length ? "No objective matches the filters." : "No OKR is defined yet: POST /analytics/okrs (see the API documentation)."),
  ];
  if (!ctx.current()) return;
  panel.replaceChildren(...nodes);
  for (const c of cards) c.paint();
}
