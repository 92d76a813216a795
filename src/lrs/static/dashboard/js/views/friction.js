// Learning friction (ANALYTICS.md section 3) from GET /analytics/friction: the learner funnel
// of the chosen program or one of its activities (assigned -> launched -> completed -> passed)
// with lead times, stalled and overdue counts; and the program's way from request to 80 %
// completed (stage durations, open requests censored). Filters: the program; the period's
// "To" date is the cut-off (as_of). The endpoint has no team breakdown.

import { downloadEndpointCsv, request, saveCsv } from "../api.js";
import { colour, draw, figure } from "../charts.js";
import { el, fmt, pct, table } from "../ui.js";
import { chosenProgram, control, head, notes } from "./common.js";

const STEPS = [["assigned", "Assigned"], ["launched", "Launched"], ["completed", "Completed"], ["passed", "Passed"]];
const LEADS = [
  ["assigned_to_launched", "Assigned → launched"],
  ["launched_to_completed", "Launched → completed"],
  ["completed_to_passed", "Completed → passed"],
  ["assigned_to_completed", "Assigned → completed"],
];
const STAGES = {
  approval: "Request → approval",
  deployment: "Approval → deployment",
  first_learner: "Deployment → first learner",
  completion: "First learner → 80 % completed",
  request_to_deployment: "Request → deployment",
  end_to_end: "Request → 80 % completed",
};
const settings = { activity: "", stalled: 14 };

// A count the server suppressed (1 to 4 learners) is null.
const count = (n) => (n === null || n === undefined ? "fewer than 5" : fmt(n));

export async function render(panel, ctx) {
  const { scope, fromFilter } = chosenProgram(ctx);
  if (!scope) {
    panel.replaceChildren(head("Friction"), el("p", { class: "notice" }, "No program has statements yet."));
    return;
  }
  const asOf = ctx.filters.to ? `${ctx.filters.to}T23:59:59Z` : undefined;
  const query = { program: scope.id, stalled_days: settings.stalled, as_of: asOf };
  // Without a program filter the request stages cover every request.
  const requestQuery = fromFilter ? { ...query, view: "requests" } : { view: "requests", as_of: asOf };
  const [body, supply] = await Promise.all([
    request("analytics/friction", { query: { ...query, view: "funnel" } }),
    request("analytics/friction", { query: requestQuery }),
  ]);
  ctx.showAsOf(body);

  const funnel = body.funnel || [];
  if (!funnel.some((f) => f.activity_id === settings.activity)) settings.activity = funnel.length ? funnel[0].activity_id : "";
  const row = funnel.find((f) => f.activity_id === settings.activity);
  const which = control("friction-activity", "Funnel of", funnel.map((f) => [f.activity_id, `${f.name || f.activity_id}${f.is_program ? " (program)" : ""}`]), settings.activity);
  const stalled = control("friction-stalled", "Stalled after (days)", null, settings.stalled, { type: "number", min: "0", max: "365" });
  which.input.addEventListener("change", () => { settings.activity = which.input.value; ctx.rerender(); });
  stalled.input.addEventListener("change", () => { settings.stalled = Math.max(0, Number(stalled.input.value || 0)); ctx.rerender(); });
  const funnelQuery = { ...query, view: "funnel" };
  const draws = [];

  // 1. The funnel.
  const funnelFig = figure({
    id: "friction-funnel",
    title: `Learner funnel: ${row ? row.name || row.activity_id : "–"}`,
    description: row
      ? `Of ${fmt(row.assigned)} assigned: ${pct(row.conversion.assigned_to_completed)} completed${row.passed ? `, ${pct(row.conversion.assigned_to_passed)} passed` : ""}. ${count(row.stalled)} stalled (not launched ${settings.stalled} days after assignment), ${count(row.overdue)} overdue.`
      : "No learner has this activity.",
    onCsv: () => downloadEndpointCsv("analytics/friction", { query: funnelQuery }, "friction-funnel.csv"),
  });
  if (row) {
    draws.push(() => draw(funnelFig.canvas, {
      type: "bar",
      data: {
        labels: STEPS.map(([, label]) => label),
        datasets: [{ label: "Learners", data: STEPS.map(([k]) => row[k]), backgroundColor: STEPS.map((_, i) => colour(i === 0 ? 5 : 0)) }],
      },
      options: {
        indexAxis: "y",
        plugins: { legend: { display: false }, tooltip: { callbacks: { afterLabel: (item) => (item.dataIndex ? `${pct(row.conversion[STEPS[item.dataIndex][0]])} of the step before` : "") } } },
        scales: { x: { beginAtZero: true, title: { display: true, text: "Learners" } } },
      },
    }));
  }
  funnelFig.setTable(funnel, [["name", "Activity"], ...STEPS.map(([k, l]) => [k, l, { numeric: true }]), ["stalled", "Stalled", { numeric: true }], ["overdue", "Overdue", { numeric: true }]]);

  // 2. Lead times between the funnel's steps.
  const leadRows = row ? LEADS.map(([k, label]) => ({ step: label, key: k, ...row.lead_times[k] })) : [];
  const leadFig = figure({
    id: "friction-leads",
    title: "Days between the steps",
    description: "Median and 90th percentile over the learners who made the step.",
    onCsv: async () => saveCsv("friction-lead-times.csv", leadRows.map((r) => ({ activity_id: settings.activity, step: r.key, n: r.n, median_days: r.median_days, p90_days: r.p90_days }))),
    size: "small",
  });
  draws.push(() => draw(leadFig.canvas, {
    type: "bar",
    data: {
      labels: leadRows.map((r) => r.step),
      datasets: [
        { label: "Median", data: leadRows.map((r) => r.median_days), backgroundColor: colour(0) },
        { label: "P90", data: leadRows.map((r) => r.p90_days), backgroundColor: colour(5) },
      ],
    },
    options: { indexAxis: "y", scales: { x: { beginAtZero: true, title: { display: true, text: "Days" } } } },
  }));
  leadFig.setTable(leadRows, [["step", "Step"], ["n", "n", { numeric: true }], ["median_days", "Median days", { numeric: true }], ["p90_days", "P90 days", { numeric: true }]]);

  // 3. From request to 80 % completed (supply side).
  const summary = supply.request_summary || [];
  const requests = supply.requests || [];
  const stageFig = figure({
    id: "friction-stages",
    title: "From request to 80 % completed",
    description: `${requests.length} request${requests.length === 1 ? "" : "s"}${fromFilter ? "" : " for all programs"}; median and 90th percentile days per stage (Kaplan-Meier: open requests count as not done yet).`,
    onCsv: () => downloadEndpointCsv("analytics/friction", { query: requestQuery }, "friction-requests.csv"),
    size: "small",
  });
  draws.push(() => draw(stageFig.canvas, {
    type: "bar",
    data: {
      labels: summary.map((s) => STAGES[s.stage] || s.stage),
      datasets: [
        { label: "Median", data: summary.map((s) => s.median_days), backgroundColor: colour(0) },
        { label: "P90", data: summary.map((s) => s.p90_days), backgroundColor: colour(5) },
      ],
    },
    options: { indexAxis: "y", scales: { x: { beginAtZero: true, title: { display: true, text: "Days" } } } },
  }));
  stageFig.setTable(summary, [["stage", "Stage", { format: (v) => STAGES[v] || v }], ["requests", "Requests", { numeric: true }], ["done", "Done", { numeric: true }], ["open", "Open", { numeric: true }], ["median_days", "Median days", { numeric: true }], ["p90_days", "P90 days", { numeric: true }]]);

  const day = (v) => (v ? v.slice(0, 10) : "–");
  const requestTable = el("section", { class: "card", id: "friction-requests", "aria-labelledby": "friction-requests-title" },
    el("h3", { id: "friction-requests-title" }, "Requests"),
    table(requests.map((r) => ({ ...r, end_to_end: r.stages.end_to_end })), [
      ["activity_name", "Program"], ["requested", "Requested", { format: day }],
      ["deployed", "Deployed", { format: day }], ["completed_80", "80 % done", { format: day }],
      ["end_to_end", "Days", { numeric: true, format: (v) => (v === null || v === undefined ? "open" : fmt(v, 0)) }],
    ], "Requests and their milestones"),
    el("p", { class: "meta" }, "The CSV of this chart has every milestone and stage of each request."));
  const suppressed = row && row.suppressed && row.suppressed.length ? [`Counts of 1 to 4 learners are not shown: ${row.suppressed.join(", ")}.`] : [];
  const teamNote = ctx.filters.team ? [`The friction measures have no team breakdown: the team filter (${ctx.filters.team}) does not apply here.`] : [];
  const nodes = [
    head("Friction", `${scope.name}${fromFilter ? "" : " (choose a program in the filters)"}${ctx.filters.to ? `, as of the end of ${ctx.filters.to}` : ""}.`, which.node, stalled.node),
    ...notes([...teamNote, ...suppressed], "status"),
    el("div", { class: "grid two" }, funnelFig.node, leadFig.node),
    el("div", { class: "grid two" }, stageFig.node, requestTable),
  ];
  if (!ctx.current()) return;
  panel.replaceChildren(...nodes);
  for (const paint of draws) paint();
}
