// Completion to outcome (ANALYTICS.md section 4) for the filters' period and team:
// every program against the outcome (POST /analytics/correlation/scan, Benjamini-Hochberg
// adjusted), then one program in detail (GET /analytics/correlation): the groups, the lift
// with its bootstrap interval, the team breakdown, and a binned scatter of a continuous
// exposure (GET dashboard/api/exposure-bins); the caveat always in view.

import { downloadEndpointCsv, request, saveCsv } from "../api.js";
import { colour, draw, figure } from "../charts.js";
import { el, fmt, pct, pvalue } from "../ui.js";
import { chosenPeriod, control, head, notes, teamQuery } from "./common.js";

const EXPOSURES = [
  ["completed", "Completed"],
  ["completed_within", "Completed within W days of the period start"],
  ["passed", "Passed"],
];
const CONTINUOUS = [
  ["days_to_complete", "Days to complete"],
  ["best_score", "Best scaled score"],
];

const settings = { metric: "", exposure: "completed", within: 14, unit: "learner", aggregation: "", continuous: "days_to_complete" };

export function metricLabel(metric) {
  if (metric.metric_id.endsWith("/closed-sale")) return `Closed sales (${metric.unit || "value"})`;
  return `${metric.metric_id}${metric.unit ? ` (${metric.unit})` : ""}`;
}

function defaultAggregation(metricId) {
  // Money adds up over a period; scores and rates are averaged.
  return metricId.endsWith("/closed-sale") ? "sum" : "mean";
}

function interval(low, high, digits = 1) {
  return low === null || low === undefined ? "" : ` [${fmt(low, digits)}, ${fmt(high, digits)}]`;
}

export async function render(panel, ctx) {
  const programs = (ctx.options.scopes || []).filter((s) => s.kind === "program");
  const chosen = (ctx.options.scopes || []).find((s) => s.id === ctx.filters.program);
  const period = chosenPeriod(ctx, 3);
  const metrics = [];
  for (const m of ctx.options.outcome_metrics || []) {
    if (!metrics.some((x) => x.metric_id === m.metric_id)) metrics.push(m);
  }
  if ((!chosen && !programs.length) || !metrics.length) {
    panel.replaceChildren(head("Completion to outcome"), el("p", { class: "notice" },
      "There are no outcome values yet: upload them (POST /analytics/outcomes or `lrs analytics outcomes`) or send outcome statements."));
    return;
  }
  if (!metrics.some((m) => m.metric_id === settings.metric)) settings.metric = metrics[0].metric_id;
  if (!settings.aggregation) settings.aggregation = defaultAggregation(settings.metric);

  const metric = control("outcome-metric", "Outcome", metrics.map((m) => [m.metric_id, metricLabel(m)]), settings.metric);
  const exposure = control("outcome-exposure", "Exposure", EXPOSURES, settings.exposure);
  const within = control("outcome-within", "W (days)", null, settings.within, { type: "number", min: "0", max: "365" });
  within.node.hidden = settings.exposure !== "completed_within";
  const unit = control("outcome-unit", "Unit", [["learner", "Learners"], ["team", "Teams"]], settings.unit);
  const aggregation = control("outcome-aggregation", "Per unit", [["sum", "Sum"], ["mean", "Mean"]], settings.aggregation);
  const continuous = control("outcome-continuous", "Exposure value", CONTINUOUS, settings.continuous);
  const rerender = () => {
    const changedMetric = metric.input.value !== settings.metric;
    Object.assign(settings, {
      metric: metric.input.value, exposure: exposure.input.value, within: Number(within.input.value || 0),
      unit: unit.input.value, continuous: continuous.input.value,
      aggregation: changedMetric ? defaultAggregation(metric.input.value) : aggregation.input.value,
    });
    ctx.rerender();
  };
  for (const c of [metric, exposure, within, unit, aggregation, continuous]) c.input.addEventListener("change", rerender);

  const shared = {
    metric: settings.metric,
    period_start: period.start,
    period_end: period.end,
    exposure: settings.exposure,
    within_days: settings.exposure === "completed_within" ? settings.within : undefined,
    unit: settings.unit,
    aggregation: settings.aggregation,
    team: teamQuery(ctx),
  };

  // 1. Every program against the outcome; without a program filter the detail shows the one
  //    with the smallest adjusted p-value.
  const scanBody = { ...shared, modules: programs.map((p) => p.id), teams: shared.team, team: undefined, bootstrap: 0, permutations: 0 };
  const scan = programs.length ? await request("analytics/correlation/scan", { method: "POST", json: scanBody }) : { modules: [] };
  const ranked = scan.modules.filter((r) => r.p_adjusted !== null).sort((a, b) => a.p_adjusted - b.p_adjusted);
  const module = chosen ? chosen.id : (ranked[0] || scan.modules[0] || { module: programs[0].id }).module;
  const moduleName = chosen ? chosen.name : ((ctx.options.scopes || []).find((s) => s.id === module) || { name: module }).name;

  const query = { ...shared, module, breakdown: settings.unit === "learner" ? "team" : undefined };
  // A program's scores are on its assessments: best scores over its whole scope (grouping).
  const binsQuery = {
    ...shared, module, exposure: settings.continuous, within_days: undefined, unit: undefined,
    scope: settings.continuous === "best_score" ? "grouping" : undefined,
  };
  const rhoQuery = { ...binsQuery, unit: "learner", bootstrap: 0, permutations: 0, breakdown: "none" };
  const [body, bins, continuousBody] = await Promise.all([
    request("analytics/correlation", { query }),
    request("dashboard/api/exposure-bins", { query: binsQuery }),
    request("analytics/correlation", { query: rhoQuery }),
  ]);
  ctx.showAsOf(body);

  const metricText = metricLabel(metrics.find((m) => m.metric_id === settings.metric));
  const where = `Outcome period ${period.start} to ${period.end}${period.fromFilter ? "" : " (the last three whole months; set From and To above)"}` +
    `${ctx.filters.team ? `, team ${ctx.filters.team}` : ""}.`;
  const draws = [];

  const scanRows = scan.modules.map((r) => ({ ...r, name: r.name || r.module }));
  const scanFig = figure({
    id: "outcome-scan", title: `Programs against ${metricText}`,
    description: "Relative lift of completers per program; p adjusted for the number of programs (Benjamini-Hochberg). Select a program in the filters for its details.",
    onCsv: () => downloadEndpointCsv("analytics/correlation/scan", { method: "POST", json: scanBody }, "correlation-scan.csv"),
    size: "small",
  });
  const tested = scanRows.filter((r) => r.status === "ok");
  draws.push(() => draw(scanFig.canvas, {
    type: "bar",
    data: {
      labels: tested.map((r) => r.name),
      datasets: [{
        label: "Relative lift (%)",
        data: tested.map((r) => (r.relative_lift === null ? null : r.relative_lift * 100)),
        backgroundColor: tested.map((r) => (r.significant ? colour(0) : "#9aa7b5")),
      }],
    },
    options: {
      indexAxis: "y",
      plugins: { legend: { display: false }, tooltip: { callbacks: { afterLabel: (item) => `adjusted p ${pvalue(tested[item.dataIndex].p_adjusted)}` } } },
      scales: { x: { title: { display: true, text: "Relative lift of completers (%); blue: significant after adjustment" } } },
    },
  }));
  scanFig.setTable(scanRows, [["name", "Program"], ["status", "Status"], ["n_exposed", "Exposed", { numeric: true }], ["n_not_exposed", "Not exposed", { numeric: true }], ["relative_lift", "Lift", { numeric: true, format: (v) => pct(v, 1) }], ["p_value", "p", { numeric: true, format: pvalue }], ["p_adjusted", "Adjusted p", { numeric: true, format: pvalue }]]);

  // 2. The groups of the program in detail.
  const groups = body.groups || [];
  const groupsFig = figure({
    id: "outcome-groups", title: `${moduleName}: mean outcome`,
    description: "Exposed (per the definition chosen) against not exposed; groups under 5 are not shown.",
    onCsv: () => downloadEndpointCsv("analytics/correlation", { query }, "correlation.csv"),
    size: "small",
  });
  draws.push(() => draw(groupsFig.canvas, {
    type: "bar",
    data: {
      labels: groups.map((g) => `${g.group === "exposed" ? "Exposed" : "Not exposed"} (n ${g.n})`),
      datasets: [{ label: "Mean outcome", data: groups.map((g) => g.mean), backgroundColor: [colour(0), colour(4)] }],
    },
    options: {
      plugins: { legend: { display: false }, tooltip: { callbacks: { afterLabel: (item) => `sd ${fmt(groups[item.dataIndex].sd)}, median ${fmt(groups[item.dataIndex].median)}` } } },
      scales: { y: { beginAtZero: true, title: { display: true, text: "Mean outcome per unit" } } },
    },
  }));
  groupsFig.setTable(groups, [["group", "Group"], ["n", "n", { numeric: true }], ["mean", "Mean", { numeric: true }], ["sd", "SD", { numeric: true }], ["median", "Median", { numeric: true }]]);

  // 3. Lift and difference with their intervals, and the tests.
  const effect = body.effect;
  const part = (o, k) => (o ? o[k] : null);
  const effectRows = effect ? [
    { statistic: "difference", estimate: effect.difference, low: part(effect.difference_ci, "low"), high: part(effect.difference_ci, "high") },
    { statistic: "relative_lift", estimate: effect.relative_lift, low: part(effect.relative_lift_ci, "low"), high: part(effect.relative_lift_ci, "high") },
    { statistic: "welch_p", estimate: part(effect.welch, "p"), low: null, high: null },
    { statistic: "permutation_p", estimate: part(effect.permutation, "p"), low: null, high: null },
    { statistic: "cohens_d", estimate: effect.cohens_d, low: null, high: null },
    { statistic: "hedges_g", estimate: effect.hedges_g, low: null, high: null },
    { statistic: "point_biserial_r", estimate: part(effect.point_biserial, "r"), low: part(part(effect.point_biserial, "ci"), "low"), high: part(part(effect.point_biserial, "ci"), "high") },
  ] : [];
  const liftCi = effect && effect.relative_lift_ci;
  const liftFig = figure({
    id: "outcome-lift", title: "Lift with 95 % interval",
    description: effect
      ? `Lift ${pct(effect.relative_lift, 1)}${liftCi ? ` [${pct(liftCi.low, 1)}, ${pct(liftCi.high, 1)}]` : ""}; difference ${fmt(effect.difference)}${interval(part(effect.difference_ci, "low"), part(effect.difference_ci, "high"))}. Welch p ${pvalue(part(effect.welch, "p"))}, permutation p ${pvalue(part(effect.permutation, "p"))}, Hedges' g ${fmt(effect.hedges_g, 2)}.`
      : "No statistics: each group needs at least 10 units with an outcome.",
    onCsv: async () => saveCsv("correlation-effect.csv", effectRows, ["statistic", "estimate", "low", "high"]),
    size: "small",
  });
  if (effect) {
    draws.push(() => draw(liftFig.canvas, {
      type: "bar",
      data: {
        labels: ["Relative lift"],
        datasets: [
          { type: "bar", label: "95 % bootstrap interval", data: liftCi ? [[liftCi.low * 100, liftCi.high * 100]] : [], backgroundColor: "rgba(0, 114, 178, 0.35)", borderColor: colour(0), borderWidth: 1, barPercentage: 0.4 },
          { type: "scatter", label: "Estimate", data: [{ x: effect.relative_lift * 100, y: "Relative lift" }], backgroundColor: colour(1), pointRadius: 8, pointStyle: "rectRot" },
        ],
      },
      options: { indexAxis: "y", scales: { x: { title: { display: true, text: "% above the not exposed (0: no difference)" } } } },
    }));
  }
  liftFig.setTable(effectRows, [["statistic", "Statistic"], ["estimate", "Estimate", { numeric: true, format: (v) => fmt(v, 4) }], ["low", "95 % low", { numeric: true, format: (v) => fmt(v, 4) }], ["high", "95 % high", { numeric: true, format: (v) => fmt(v, 4) }]]);

  // 4. Breakdown by team (cells under 5 people are suppressed by the server).
  const breakdown = (body.breakdown && body.breakdown.rows) || [];
  const shown = breakdown.filter((r) => !r.suppressed);
  const teamFig = figure({
    id: "outcome-teams", title: "By team",
    description: `${shown.length} teams with at least 5 people in both groups${breakdown.length > shown.length ? `; ${breakdown.length - shown.length} suppressed` : ""}.`,
    onCsv: async () => saveCsv("correlation-by-team.csv", breakdown),
    size: "small",
  });
  if (!shown.length) {
    teamFig.canvas.parentElement.replaceWith(el("p", { class: "notice" }, "Every team has fewer than 5 people in a group: nothing to show."));
  } else draws.push(() => draw(teamFig.canvas, {
    type: "bar",
    data: {
      labels: shown.map((r) => r.team),
      datasets: [
        { label: "Exposed", data: shown.map((r) => r.exposed_mean), backgroundColor: colour(0) },
        { label: "Not exposed", data: shown.map((r) => r.not_exposed_mean), backgroundColor: colour(4) },
      ],
    },
    options: { scales: { y: { beginAtZero: true } } },
  }));
  teamFig.setTable(breakdown, [["team", "Team"], ["exposed_n", "Exposed n", { numeric: true }], ["exposed_mean", "Exposed mean", { numeric: true }], ["not_exposed_n", "Not exposed n", { numeric: true }], ["not_exposed_mean", "Not exposed mean", { numeric: true }]]);

  // 5. Binned scatter of a continuous exposure.
  const association = continuousBody.association;
  const xLabel = settings.continuous === "best_score" ? "Best scaled score" : "Days to complete";
  const scatterFig = figure({
    id: "outcome-scatter", title: `Outcome by ${xLabel.toLowerCase()}`,
    description: `${settings.continuous === "best_score" ? "Learners with a score (any part of the program)" : "Completers"} in ${bins.bins.length} bins of at least 5 people (bin means); dashed: mean of the not exposed. ` +
      (association && association.status === "ok"
        ? `Spearman's rho ${fmt(association.spearman_rho, 3)} (p ${pvalue(association.p)}, n ${association.n}).`
        : "Too few for Spearman's rho."),
    onCsv: () => downloadEndpointCsv("dashboard/api/exposure-bins", { query: binsQuery }, "exposure-bins.csv"),
    size: "small",
    controls: continuous.node,
  });
  const xs = bins.bins.map((b) => b.value_mean);
  const reference = bins.not_exposed.outcome_mean;
  draws.push(() => draw(scatterFig.canvas, {
    type: "scatter",
    data: {
      datasets: [
        { label: "Completers (bin means)", data: bins.bins.map((b) => ({ x: b.value_mean, y: b.outcome_mean })), backgroundColor: colour(0), pointRadius: 5 },
        ...(reference !== null && xs.length ? [{ type: "line", label: "Not exposed (mean)", data: [{ x: Math.min(...xs), y: reference }, { x: Math.max(...xs), y: reference }], borderColor: colour(4), borderDash: [6, 4], pointRadius: 0 }] : []),
      ],
    },
    options: { scales: { x: { title: { display: true, text: xLabel } }, y: { title: { display: true, text: "Mean outcome" } } } },
  }));
  scatterFig.setTable(bins.bins, [["bin", "Bin"], ["n", "n", { numeric: true }], ["value_min", "From", { numeric: true }], ["value_max", "To", { numeric: true }], ["outcome_mean", "Mean outcome", { numeric: true }]]);

  const nodes = [
    head("Completion to outcome", `${moduleName} → ${metricText}. ${where}`, metric.node, exposure.node, within.node, unit.node, aggregation.node),
    el("p", { class: "caveat", id: "outcome-caveat", role: "note" }, el("strong", {}, "Correlation is not causation. "), body.caveat.replace(/^Correlation is not causation\.\s*/, "")),
    ...notes(body.warnings),
    body.status !== "ok"
      ? el("p", { class: "notice", id: "outcome-status" }, `Not enough data to compare ${moduleName} (status ${body.status}): each group needs at least 10 ${settings.unit === "team" ? "teams" : "people"} with an outcome.`)
      : null,
    el("div", { class: "grid two" }, groupsFig.node, liftFig.node),
    el("div", { class: "grid two" }, scatterFig.node, settings.unit === "learner" ? teamFig.node : null),
    scanFig.node,
  ];
  if (!ctx.current()) return;
  panel.replaceChildren(...nodes.filter(Boolean));
  for (const paint of draws) paint();
}
