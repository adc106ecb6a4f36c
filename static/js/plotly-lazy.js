/* Plotly when the page needs it. A page whose network is drawn with WebGL (graph-gl.js) loads plotly.js (4.8 MB to
 * parse and run) only after that network's first frame, so the big script is off the first paint: its tag carries
 * data-src instead of loading plotly.js itself, and network.js calls loadPlotly() once it has drawn (or at once
 * where it must draw with Plotly). Other pages load plotly.js with a plain deferred tag before this one.
 * whenPlotly(fn) runs fn now where Plotly is there, else when it arrives. A safety net starts the load 3 s after the
 * window's load event, so the page's other charts come even if network.js stopped before its call. */
"use strict";

(() => {
  const tag = document.getElementById("plotly-lazy");
  const waiting = [];
  let started = false;

  function ready() {
    while (waiting.length) waiting.shift()(window.Plotly);
  }

  window.loadPlotly = () => {
    if (window.Plotly) { ready(); return; }
    if (started || !tag || !tag.dataset.src) return;
    started = true;
    const script = document.createElement("script");
    script.src = tag.dataset.src;
    script.onload = ready;
    document.head.append(script);
  };

  window.whenPlotly = (fn) => {
    if (window.Plotly) { fn(window.Plotly); return; }
    waiting.push(fn);
  };

  window.addEventListener("load", () => setTimeout(() => window.loadPlotly(), 3000));
})();
