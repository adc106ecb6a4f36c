/* The case timeline page: draws the figure apps/audit/timeline.py built (json_script "case-timeline-figure": two
 * lanes, ranges as bars, points as markers); a click on a mark scrolls to its table row ("event-<index>", the
 * mark's customdata) and shades it for a moment. */
"use strict";

(() => {
  const node = document.getElementById("case-timeline-figure");
  const plot = document.getElementById("case-timeline-chart");
  if (!node || !plot || !window.Plotly) return;
  const figure = JSON.parse(node.textContent);
  const config = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["lasso2d", "select2d"] };
  window.Plotly.newPlot(plot, figure.data, figure.layout, config).then(() => {
    plot.on("plotly_click", (event) => {
      const index = event.points?.[0]?.customdata;
      const row = index === undefined ? null : document.getElementById(`event-${index}`);
      if (!row) return;
      row.scrollIntoView({ behavior: "smooth", block: "center" });
      // Through the CSSOM, which the page's CSP (no inline style attributes) allows.
      row.style.background = "#eff6ff";
      row.setAttribute("aria-current", "true");
      window.setTimeout(() => { row.style.background = ""; row.removeAttribute("aria-current"); }, 2500);
    });
  });
})();
