// Charts: thin helpers over the vendored Chart.js (window.Chart, loaded by the page).
// Every chart sits in a figure with a heading, a CSV download button, an accessible name on
// the canvas and the same numbers as a table under a <details> for screen readers and copying.

import { el, table } from "./ui.js";

// Okabe-Ito (then two more): distinguishable with the common colour-vision deficiencies. Black
// is kept for "all learners" lines.
export const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#7F3C8D", "#8C564B", "#3B8B9B"];

const Chart = window.Chart;
Chart.defaults.animation = false;
Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
Chart.defaults.color = "#1b1f24";
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.plugins.legend.labels.boxWidth = 14;

export function colour(i) {
  return PALETTE[i % PALETTE.length];
}

// A figure: { node, canvas, tableSlot, setTable(rows, columns) }.
// `onCsv` is an async function run when the download button is pressed.
export function figure({ id, title, description, onCsv, size = "", controls = null }) {
  const canvas = el("canvas", { id: `${id}-canvas`, role: "img", "aria-label": `${title}. ${description || ""}`.trim() });
  const button = el("button", {
    type: "button", class: "secondary csv", "data-csv": id,
    "aria-label": `Download ${title} as CSV`,
  }, "CSV");
  const status = el("span", { class: "status", role: "status" });
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = "";
    try {
      await onCsv();
    } catch (err) {
      status.textContent = err.message;
      status.classList.add("error");
    } finally {
      button.disabled = false;
    }
  });
  const tableSlot = el("div");
  const node = el("figure", { class: "card", id },
    el("div", { class: "figure-head" }, el("h3", {}, title), el("span", { class: "controls" }, controls, status, button)),
    description ? el("p", { class: "status" }, description) : null,
    el("div", { class: `chart-box ${size}` }, canvas),
    el("details", {}, el("summary", {}, "Show the numbers"), tableSlot));
  return {
    node,
    canvas,
    setTable(rows, columns) {
      tableSlot.replaceChildren(table(rows, columns, title));
    },
  };
}

export function draw(canvas, config) {
  const old = Chart.getChart(canvas);
  if (old) old.destroy();
  return new Chart(canvas, config);
}

export function sparkline(canvas, labels, values, zoneColour) {
  return draw(canvas, {
    type: "line",
    data: {
      labels,
      datasets: [{ data: values, borderColor: zoneColour || PALETTE[0], borderWidth: 2, pointRadius: 2, spanGaps: true, fill: false }],
    },
    options: {
      plugins: { legend: { display: false }, tooltip: { enabled: true } },
      scales: { x: { display: false }, y: { display: false } },
      layout: { padding: 2 },
    },
  });
}
