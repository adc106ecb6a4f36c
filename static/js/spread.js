/* The spread pages: the propagation page's cascade picker (figures from json_script "cascade-figures",
 * built by ml/graphs/charts.py) with its time axis, hours or log10(1 + minutes) (axes from json_script
 * "cascade-axes"), and hours in its label table; the hashtag network's virality timeline,
 * fetched from /analyses/<pk>/timeline/ for the picked hashtag or domain (a click on a node picks it). */
"use strict";

(window.whenPlotly || ((fn) => window.Plotly && fn()))(() => {  // static/js/plotly-lazy.js
  const config = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["lasso2d", "select2d"] };

  const figuresNode = document.getElementById("cascade-figures");
  const select = document.getElementById("cascade-select");
  if (figuresNode && select) {
    const figures = JSON.parse(figuresNode.textContent);
    const axes = JSON.parse(document.getElementById("cascade-axes").textContent);  // ml/graphs/charts.py cascade_time_axes
    const scale = document.getElementById("cascade-time");
    const plot = document.querySelector('[data-testid="cascade"]');
    // log10(1 + minutes), as charts.log_time: the first minutes, where most reposts arrive, spread out.
    const logTime = (h) => (h === null ? null : Math.log10(1 + 60 * Math.max(h, 0)));
    const draw = () => {
      const f = figures[Number(select.value)];
      if (!f) return;
      const log = scale.value === "log";
      const data = log ? f.data.map((t) => ({ ...t, x: t.x.map(logTime) })) : f.data;
      window.Plotly.react(plot, data, { ...f.layout, xaxis: axes[log ? "log" : "linear"] }, config);
    };
    select.addEventListener("change", draw);
    scale.addEventListener("change", draw);
    draw();
  }
  document.querySelectorAll("td[data-seconds]").forEach((td) => {
    const s = Number(td.dataset.seconds);
    td.textContent = td.dataset.seconds === "None" || Number.isNaN(s) ? "—" : (s / 3600).toFixed(2);
  });

  const timeline = document.getElementById("timeline");
  if (!timeline) return;
  const hashtag = document.getElementById("timeline-hashtag");
  const domain = document.getElementById("timeline-domain");
  const freq = document.getElementById("timeline-freq");
  const bursts = document.getElementById("timeline-bursts");
  async function load() {
    const query = domain.value ? `domain=${encodeURIComponent(domain.value)}` : `hashtag=${encodeURIComponent(hashtag.value)}`;
    if (!domain.value && !hashtag.value) return;
    const response = await fetch(`${timeline.dataset.url}?${query}&freq=${freq.value}`, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) { bursts.textContent = `Could not load the timeline (${response.status}).`; return; }
    const found = await response.json();
    window.Plotly.react(timeline, found.figure.data, found.figure.layout, config);
    bursts.textContent = `${found.posts.toLocaleString()} posts · ${found.bursts.length} burst${found.bursts.length === 1 ? "" : "s"}` +
      (found.truncated ? " (the latest 200,000 only)" : "") + (found.split_by ? ` · split by ${found.split_by}` : "");
  }
  hashtag.addEventListener("change", () => { domain.value = ""; load(); });
  domain.addEventListener("change", load);
  freq.addEventListener("change", load);
  const plot = document.querySelector('[data-testid="network"]');
  if (plot) plot.addEventListener("network:node", (event) => {
    const tag = event.detail?.id;
    if (!tag) return;
    if (![...hashtag.options].some((o) => o.value === tag)) { const o = document.createElement("option"); o.value = tag; o.textContent = `#${tag}`; hashtag.append(o); }
    hashtag.value = tag; domain.value = ""; load();
  });
  load();
});
