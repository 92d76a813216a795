// KPI tiles (ANALYTICS.md section 5): each stored KPI's current value, zone, target, change and
// trend sparkline, from GET /analytics/kpis (or, with a team or program filter, the same report
// with every KPI narrowed to it: GET dashboard/api/kpis). The period filter's "To" date is the
// reference time ("as of the end of that day").

import { downloadEndpointCsv, request, saveCsv } from "../api.js";
import { sparkline } from "../charts.js";
import { el, fmt } from "../ui.js";
import { head, notes } from "./common.js";

export const ZONE_COLOURS = { green: "#146c2e", amber: "#b86e00", red: "#a4161a" };
const ZONE_TEXT = { green: "● Green", amber: "▲ Amber", red: "■ Red" };
const PERCENT = new Set(["completion_rate_assigned", "completion_rate_started", "first_attempt_pass_rate", "eventual_pass_rate", "compliance_adherence", "avg_best_score"]);
const UNITS = { learning_hours_per_learner: " h", certification_speed: " days", skill_acquisition_rate: " / learner / month" };

export function measureValue(measure, value) {
  if (value === null || value === undefined) return "–";
  if (PERCENT.has(measure)) return `${(value * 100).toFixed(1)} %`;
  if (measure === "statements" || measure === "active_learners") return fmt(value, 0);
  return `${fmt(value, 2)}${UNITS[measure] || ""}`;
}

function periodLabel(entry, period) {
  const start = entry.period_start;
  if (period === "quarter") return `${start.slice(0, 4)} Q${Math.floor(Number(start.slice(5, 7)) / 3) + 1}`;
  if (period === "month") return start.slice(0, 7);
  return start;
}

function tile(kpi, index) {
  const zone = kpi.zone || "none";
  const labels = kpi.trend.map((t) => periodLabel(t, kpi.period));
  const values = kpi.trend.map((t) => t.value);
  const canvas = el("canvas", {
    id: `kpi-spark-${index}`,
    role: "img",
    "aria-label": `Trend of ${kpi.name}: ${kpi.trend.map((t, i) => `${labels[i]} ${measureValue(kpi.measure, t.value)}`).join(", ")}`,
  });
  const change = kpi.change_from_previous;
  const arrow = change === null || change === undefined ? "" : change > 0 ? "↑" : change < 0 ? "↓" : "→";
  const changeText = change === null || change === undefined
    ? "no previous value"
    : `${arrow} ${measureValue(kpi.measure, Math.abs(change)).replace(" %", " pts")} vs previous ${kpi.period}${kpi.improving === true ? " (improving)" : kpi.improving === false ? " (worsening)" : ""}`;
  const trendRows = kpi.trend.map((t) => ({ kpi: kpi.name, measure: kpi.measure, ...t }));
  const csv = el("button", { type: "button", class: "secondary csv", "data-csv": `kpi-${index}`, "aria-label": `Download the trend of ${kpi.name} as CSV` }, "CSV");
  csv.addEventListener("click", () => saveCsv(`kpi-${kpi.id}-trend.csv`, trendRows, ["kpi", "measure", "period_start", "period_end", "partial", "value", "n", "zone"]));
  const node = el("article", { class: `card tile ${zone}`, "aria-labelledby": `kpi-name-${index}`, dataset: { kpiId: kpi.id, zone } },
    el("div", { class: "figure-head" }, el("h3", { id: `kpi-name-${index}` }, kpi.name), csv),
    el("div", { class: "value", "data-value": kpi.value === null ? "" : String(kpi.value) }, measureValue(kpi.measure, kpi.value)),
    el("p", {}, el("span", { class: `zone ${zone}` }, ZONE_TEXT[zone] || "No value"), " ",
      el("span", { class: "meta" }, `target ${measureValue(kpi.measure, kpi.target)} (${kpi.direction === "higher_is_better" ? "higher" : "lower"} is better)`)),
    el("p", { class: "meta" }, changeText),
    el("div", { class: "chart-box spark" }, canvas),
    el("p", { class: "meta" },
      `${kpi.current_period.period_start} – ${kpi.current_period.period_end}${kpi.current_period.partial ? " (so far)" : ""}` +
      `${kpi.n !== null && kpi.n !== undefined ? ` · n ${fmt(kpi.n, 0)}` : ""}`));
  return { node, paint: () => sparkline(canvas, labels, values, ZONE_COLOURS[kpi.zone]) };
}

export async function render(panel, ctx) {
  const narrowed = Boolean(ctx.filters.team || ctx.filters.program);
  const query = { at: ctx.filters.to || undefined };
  let path = "analytics/kpis";
  if (narrowed) {
    path = "dashboard/api/kpis";
    Object.assign(query, { team: ctx.filters.team || undefined, activity: ctx.filters.program || undefined });
  }
  const body = await request(path, { query });
  ctx.showAsOf(body);
  const download = el("button", { type: "button", class: "secondary csv", "data-csv": "kpis", "aria-label": "Download the KPI report as CSV" }, "CSV of all KPIs");
  download.addEventListener("click", () => downloadEndpointCsv(path, { query }, "kpis.csv"));
  const scope = [ctx.filters.team && `team ${ctx.filters.team}`, ctx.filters.program && "the chosen program"].filter(Boolean).join(" and ");
  const description = `As of ${ctx.filters.to ? `the end of ${ctx.filters.to}` : "the latest sync"}` +
    (narrowed ? `, every KPI narrowed to ${scope}.` : ". Set a team or program above to narrow every KPI.");
  const tiles = body.kpis.map(tile);
  const excluded = (body.excluded || []).map((k) => `${k.name} is defined for other teams or activities, so it is not shown for this filter.`);
  const nodes = [
    head("KPIs", description, download),
    ...notes(excluded),
    body.kpis.length
      ? el("div", { class: "grid tiles", id: "kpi-tiles" }, tiles.map((t) => t.node))
      : el("p", { class: "notice" }, "No KPI is defined yet: POST /analytics/kpi-definitions (see the API documentation)."),
  ];
  if (!ctx.current()) return;
  panel.replaceChildren(...nodes);
  for (const t of tiles) t.paint();
}
