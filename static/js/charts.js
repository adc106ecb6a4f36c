/* Draw the figures that apps/collections/charts.py built: <div data-figure="key"> + json_script "collection-figures". */
"use strict";

(window.whenPlotly || ((fn) => window.Plotly && fn()))(() => {  // static/js/plotly-lazy.js
  const node = document.getElementById("collection-figures");
  if (!node) return;
  const figures = JSON.parse(node.textContent);
  const config = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["lasso2d", "select2d"] };
  document.querySelectorAll("[data-figure]").forEach((el) => {
    const figure = figures[el.dataset.figure];
    if (figure) window.Plotly.newPlot(el, figure.data, figure.layout, config);
  });
});
