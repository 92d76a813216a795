// Time to proficiency (ANALYTICS.md section 2): Kaplan-Meier curves of the share proficient
// over days since start, overall (with its 95 % band) and per cohort, with the log-rank test,
// from GET /analytics/time-to-proficiency. Filters: the program; the period bounds the start
// date (from/to); a team compares that team with the rest of its cohort column (team).

import { downloadEndpointCsv, request, saveCsv } from "../api.js";
import { colour, draw, figure } from "../charts.js";
import { el, fmt, pct, pvalue, table } from "../ui.js";
import { chosenProgram, control, head, notes } from "./common.js";

const STARTS = [
  ["assignment", "Assignment"],
  ["registration", "Registration"],
  ["first_engagement", "First engagement"],
  ["hire", "Hire date"],
];
const COHORTS = [
  ["", "No comparison"],
  ["team", "Team"],
  ["role", "Role"],
  ["region", "Region"],
  ["hire_quarter", "Hire quarter"],
  ["hire_month", "Hire month"],
];
const settings = { start: "assignment", cohort: "team" };

// A group's Kaplan-Meier curve as points, from the API's column lists (t, at_risk, events,
// censored, survival, proficient with its _lower/_upper bounds); a list of step objects is
// read too.
export function curvePoints(curve) {
  if (!curve) return [];
  if (Array.isArray(curve)) {
    return curve.map((p) => ({
      t: p.t, at_risk: p.at_risk, events: p.events, censored: p.censored, survival: p.survival,
      proficient: p.proficient,
      lower: p.proficient_ci ? p.proficient_ci[0] : p.proficient_lower,
      upper: p.proficient_ci ? p.proficient_ci[1] : p.proficient_upper,
    }));
  }
  return (curve.t || []).map((t, i) => ({
    t, at_risk: curve.at_risk[i], events: curve.events[i], censored: curve.censored[i],
    survival: curve.survival[i], proficient: curve.proficient[i],
    lower: curve.proficient_lower[i], upper: curve.proficient_upper[i],
  }));
}

function steps(points) {
  // Kaplan-Meier is a step function: plot its points with stepped lines, in percent.
  return points.map((p) => ({ x: p.t, y: p.proficient * 100 }));
}

function rate(group, days) {
  const found = (group.rates || []).find((r) => r.days === days);
  return found ? found.proficient : null;
}

export async function render(panel, ctx) {
  const { scope, fromFilter } = chosenProgram(ctx);
  const start = control("ttp-start", "Clock starts at", STARTS, settings.start);
  const cohort = control("ttp-cohort", "Compare cohorts by", COHORTS, ctx.filters.team ? "team" : settings.cohort);
  if (ctx.filters.team) cohort.input.disabled = true;
  for (const c of [start, cohort]) {
    c.input.addEventListener("change", () => {
      settings.start = start.input.value;
      if (!ctx.filters.team) settings.cohort = cohort.input.value;
      ctx.rerender();
    });
  }
  if (!scope) {
    panel.replaceChildren(head("Time to proficiency"), el("p", { class: "notice" }, "No program has statements yet."));
    return;
  }
  const query = {
    program: scope.id,
    start: settings.start,
    cohort: ctx.filters.team ? "team" : settings.cohort || undefined,
    from: ctx.filters.from || undefined,
    to: ctx.filters.to || undefined,
  };
  const body = await request("analytics/time-to-proficiency", { query });
  ctx.showAsOf(body);

  const overall = body.overall;
  let cohorts = body.cohorts || [];
  if (ctx.filters.team) cohorts = cohorts.filter((c) => c.cohort === ctx.filters.team);
  const groups = [...(overall ? [{ ...overall, cohort: "All learners" }] : []), ...cohorts];

  const fig = figure({
    id: "ttp-curve",
    title: "Share proficient by days since start",
    description: "Kaplan-Meier estimate: learners not yet proficient count until they leave or until now (right-censored), never dropped. Shaded: the 95 % interval of all learners.",
    onCsv: async () => saveCsv("time-to-proficiency-curves.csv", groups.flatMap((g) => curvePoints(g.curve).map((p) => ({
      cohort: g.cohort, t: p.t, at_risk: p.at_risk, events: p.events, censored: p.censored,
      survival: p.survival, proficient: p.proficient, proficient_lower: p.lower, proficient_upper: p.upper,
    })))),
  });
  const datasets = [];
  if (overall) {
    const band = curvePoints(overall.curve);
    datasets.push(
      { label: "95 % interval (upper)", data: band.map((p) => ({ x: p.t, y: p.upper * 100 })), stepped: "before", borderWidth: 0, pointRadius: 0, backgroundColor: "rgba(0, 114, 178, 0.15)", fill: "+1" },
      { label: "95 % interval (lower)", data: band.map((p) => ({ x: p.t, y: p.lower * 100 })), stepped: "before", borderWidth: 0, pointRadius: 0, fill: false },
    );
  }
  groups.forEach((g, i) => {
    datasets.push({
      label: g.cohort === null ? "(no roster value)" : String(g.cohort),
      data: steps(curvePoints(g.curve)),
      stepped: "before",
      borderColor: i === 0 && overall ? "#1b1f24" : colour(i),
      backgroundColor: i === 0 && overall ? "#1b1f24" : colour(i),
      borderWidth: i === 0 && overall ? 3 : 2,
      borderDash: i === 0 && overall ? [6, 3] : undefined,
      pointRadius: 0,
      fill: false,
    });
  });
  const paint = () => draw(fig.canvas, {
    type: "line",
    data: { datasets },
    options: {
      parsing: true,
      interaction: { mode: "nearest", intersect: false },
      plugins: { legend: { labels: { filter: (item) => !item.text.startsWith("95 %") } } },
      scales: {
        x: { type: "linear", min: 0, title: { display: true, text: "Days since start" } },
        y: { min: 0, max: 100, title: { display: true, text: "% proficient" } },
      },
    },
  });

  const columns = [
    ["cohort", "Cohort"], ["n", "n", { numeric: true }], ["events", "Proficient", { numeric: true }], ["censored", "Censored", { numeric: true }],
    ["median_days", "Median days", { numeric: true, format: (v) => (v === null ? "not reached" : fmt(v, 1)) }],
    ["p90_days", "P90 days", { numeric: true, format: (v) => (v === null ? "not reached" : fmt(v, 1)) }],
    ...[30, 60, 90, 180].map((d) => [(g) => rate(g, d), `By ${d} d`, { numeric: true, format: (v) => pct(v) }]),
    ["leavers_before_proficiency", "Left first", { numeric: true }],
    ["waived", "Waived", { numeric: true }], ["pre_proficient", "Proficient before", { numeric: true }],
  ];
  fig.setTable(groups, columns);
  const summary = figure({
    id: "ttp-summary",
    title: "Median days to proficiency",
    description: body.logrank
      ? `Log-rank test across ${body.logrank.cohorts.length} cohorts: p ${pvalue(body.logrank.p_value)} (chi² ${fmt(body.logrank.chi2, 2)}, df ${body.logrank.df}).`
      : "Choose a cohort column to compare cohorts (log-rank test).",
    onCsv: () => downloadEndpointCsv("analytics/time-to-proficiency", { query }, "time-to-proficiency.csv"),
  });
  const paintSummary = () => draw(summary.canvas, {
    type: "bar",
    data: {
      labels: groups.map((g) => (g.cohort === null ? "(none)" : String(g.cohort))),
      datasets: [
        { label: "Median days", data: groups.map((g) => g.median_days), backgroundColor: colour(0) },
        { label: "P90 days", data: groups.map((g) => g.p90_days), backgroundColor: colour(5) },
      ],
    },
    options: { indexAxis: "y", scales: { x: { beginAtZero: true, title: { display: true, text: "Days (missing: not reached)" } } } },
  });
  summary.setTable(groups, columns);
  // One pair of bars per group must stay readable: grow the chart with the groups.
  summary.canvas.parentElement.style.height = `${Math.max(13, 4 + groups.length * 2.2)}rem`;

  const excluded = overall
    ? [`${overall.leavers_before_proficiency} learners left before proficiency (counted as censored); ${overall.waived} were waived and ${overall.pre_proficient} were proficient before start (not in the estimate); ${overall.without_start} have no start event.`]
    : [];
  const suppressed = body.suppressed && body.suppressed.cohorts ? [`${body.suppressed.cohorts} cohorts with fewer than 5 learners are not shown.`] : [];
  const title = `${scope.name}${fromFilter ? "" : " (choose a program in the filters)"}`;
  const period = ctx.filters.from || ctx.filters.to ? ` Learners who started between ${ctx.filters.from || "the beginning"} and ${ctx.filters.to || "now"}.` : "";
  const nodes = [
    head("Time to proficiency", `${title}.${period}${ctx.filters.team ? ` Team ${ctx.filters.team} against all learners.` : ""}`, start.node, cohort.node),
    ...notes([...excluded, ...suppressed], "status"),
    el("div", { class: "grid two" }, fig.node, summary.node),
    el("section", { class: "card", "aria-labelledby": "ttp-table-title" },
      el("h3", { id: "ttp-table-title" }, "Per group"), table(groups, columns, "Time to proficiency per group")),
  ];
  if (!overall) nodes.push(el("p", { class: "notice" }, "Too few learners with a start event for an estimate (fewer than 5)."));
  if (!ctx.current()) return;
  panel.replaceChildren(...nodes);
  paint();
  paintSummary();
}
