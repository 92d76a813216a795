// Measures explorer (ANALYTICS.md section 5): one built-in measure over time, optionally split
// by team, cohort or activity, through POST /analytics/measures with the filters' period,
// program (activity scope) and team.

import { downloadEndpointCsv, request } from "../api.js";
import { colour, draw, figure } from "../charts.js";
import { el, fmt } from "../ui.js";
import { control, head, notes, scopeName } from "./common.js";
import { measureValue } from "./kpis.js";

const MEASURES = [
  ["active_learners", "Active learners"],
  ["statements", "Statements"],
  ["completion_rate_assigned", "Completion rate (of assigned)"],
  ["completion_rate_started", "Completion rate (of starters)"],
  ["first_attempt_pass_rate", "First-attempt pass rate"],
  ["eventual_pass_rate", "Eventual pass rate"],
  ["avg_best_score", "Average best scaled score"],
  ["learning_hours_per_learner", "Learning hours per learner"],
  ["compliance_adherence", "Compliance adherence"],
  ["certification_speed", "Certification speed (median days)"],
  ["skill_acquisition_rate", "Skill acquisition rate"],
];
const INTERVALS = [["week", "Week"], ["month", "Month"], ["quarter", "Quarter"], ["day", "Day"]];
const SPLITS = [["", "Nothing"], ["team", "Team"], ["cohort", "Hire quarter"], ["activity", "Activity"]];
const MAX_SERIES = 8;
const COUNTS = new Set(["statements", "active_learners"]);

const settings = { measure: "active_learners", interval: "month", split: "" };

function nextDay(day) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

// The query the view sends: also used by the tests to compare with the API.
export function measuresQuery(ctx, s = settings) {
  const filters = {};
  if (ctx.filters.from) filters.from = ctx.filters.from;
  if (ctx.filters.to) filters.to = nextDay(ctx.filters.to); // the filter's "To" day is included
  if (ctx.filters.program) filters.activity = [ctx.filters.program];
  if (ctx.filters.team) filters.team = [ctx.filters.team];
  const query = { measures: [s.measure], group_by: [s.interval, ...(s.split ? [s.split] : [])], filters };
  if (s.split === "cohort") query.options = { cohort: "hire_quarter" };
  return query;
}

export async function render(panel, ctx) {
  const measure = control("measure-name", "Measure", MEASURES, settings.measure);
  const interval = control("measure-interval", "Interval", INTERVALS, settings.interval);
  const split = control("measure-split", "Split by", SPLITS, settings.split);
  for (const c of [measure, interval, split]) {
    c.input.addEventListener("change", () => {
      Object.assign(settings, { measure: measure.input.value, interval: interval.input.value, split: split.input.value });
      ctx.rerender();
    });
  }
  const query = measuresQuery(ctx);
  const body = await request("analytics/measures", { method: "POST", json: query });
  ctx.showAsOf(body);

  const name = settings.measure;
  const time = settings.interval;
  const labels = [...new Set(body.rows.map((r) => r[time]))].sort();
  let series;
  if (!settings.split) {
    series = [{ label: MEASURES.find(([m]) => m === name)[1], rows: body.rows }];
  } else {
    const key = settings.split;
    const totals = new Map();
    for (const row of body.rows) {
      const k = row[key] === null ? "(none)" : row[key];
      totals.set(k, (totals.get(k) || 0) + (row[`${name}_n`] || row[name] || 0));
    }
    const keep = [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, MAX_SERIES).map(([k]) => k);
    series = keep.map((k) => ({
      label: key === "activity" ? scopeName(ctx, k) : String(k),
      rows: body.rows.filter((r) => (r[key] === null ? "(none)" : r[key]) === k),
    }));
  }
  const percent = /rate|adherence|best_score/.test(name) && name !== "skill_acquisition_rate";
  const scale = (v) => (v === null || v === undefined ? null : percent ? v * 100 : v);
  const fig = figure({
    id: "measure-chart",
    title: `${MEASURES.find(([m]) => m === name)[1]} by ${time}`,
    description: body.definitions.measures[name],
    onCsv: () => downloadEndpointCsv("analytics/measures", { method: "POST", json: query }, "measures.csv"),
  });
  const paint = () => draw(fig.canvas, {
    type: "line",
    data: {
      labels,
      datasets: series.map((s, i) => {
        const byTime = new Map(s.rows.map((r) => [r[time], r[name]]));
        // The table has no row where there is no data: a count is 0 there, a rate unknown.
        const missing = COUNTS.has(name) ? 0 : null;
        return { label: s.label, data: labels.map((l) => scale(byTime.has(l) ? byTime.get(l) : missing)), borderColor: colour(i), backgroundColor: colour(i), spanGaps: false, tension: 0 };
      }),
    },
    options: {
      plugins: { legend: { display: series.length > 1 }, tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${measureValue(name, percent ? item.parsed.y / 100 : item.parsed.y)}` } } },
      scales: { y: { beginAtZero: true, title: { display: true, text: percent ? "%" : name.replace(/_/g, " ") } } },
    },
  });
  const columns = body.columns.map((c) => [c, c.replace(/_/g, " "), { numeric: c === name || c.endsWith("_n"), format: c === name ? (v) => measureValue(name, v) : (v) => fmt(v, 2) }]);
  fig.setTable(body.rows, columns);
  const scope = [ctx.filters.program && scopeName(ctx, ctx.filters.program), ctx.filters.team && `team ${ctx.filters.team}`, (ctx.filters.from || ctx.filters.to) && `${ctx.filters.from || "start"} to ${ctx.filters.to || "now"}`].filter(Boolean).join(", ");
  const suppressed = body.suppressed_cells ? [`${body.suppressed_cells} cells rest on fewer than 5 people and are not shown.`] : [];
  const nodes = [
    head("Measures explorer", scope ? `Filtered to ${scope}.` : "All data; use the filters above to narrow it.", measure.node, interval.node, split.node),
    ...notes(suppressed),
    fig.node,
  ];
  if (!ctx.current()) return;
  panel.replaceChildren(...nodes);
  paint();
}
