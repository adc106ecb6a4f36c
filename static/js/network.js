/* The network page of the coordination, co-action, retweet and hashtag kinds: WebGL drawing, client-side filters over the
 * stored JSON (json_script "network-data"), the side panel (an account's strongest partners; an edge's
 * evidence from /analyses/<pk>/evidence/), the before/after pair and the communities' timelines.
 * Two renderers: Plotly's scattergl for networks up to 5,000 edges (legend, edge-midpoint clicks for evidence), and
 * graph-gl.js for larger ones, whose edges the server leaves out of the page (data.edges is null): they come as
 * typed arrays from the binary payload (data-binary) with the stored layout. ?renderer=gl or ?renderer=plotly picks
 * one. A network stored without positions (an older row) is laid out by the binary endpoint on first view.
 * Generalised for the spread kinds: data.prefix names nodes ("@" accounts, "#" hashtags), data.size_keys
 * offers node sizes, data.noun counts them; the type/rule filters, the evidence and the giant-component
 * box are used only where the template has them. A node click also fires "network:node" on the plot. */
"use strict";

(() => {
  const dataNode = document.getElementById("network-data");
  if (!dataNode) return;
  const data = JSON.parse(dataNode.textContent);
  const asked = new URLSearchParams(window.location.search).get("renderer");
  const useGL = Boolean(window.GraphGL) && (asked === "gl" || (asked !== "plotly" && data.edges == null));
  // static/js/plotly-lazy.js: Plotly is loaded after a WebGL network's first frame; pages without it have it already
  const whenPlotly = window.whenPlotly || ((fn) => window.Plotly && fn(window.Plotly));
  const loadPlotly = window.loadPlotly || (() => {});
  const evidenceUrl = document.getElementById("network-script").dataset.evidence || "";
  const prefix = data.prefix ?? "@";
  const noun = data.noun || "accounts";
  const name = (n) => `${prefix}${n.handle}`;
  const plot = document.querySelector('[data-testid="network"]');
  const panel = document.querySelector('[data-testid="network-panel"]');
  const edgeTable = document.querySelector('[data-testid="edge-table"] tbody');
  const control = (name) => document.querySelector(`[data-filter="${name}"]`);
  const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d"];
  const config = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["lasso2d", "select2d"] };
  const nodes = new Map(data.nodes.map((n) => [n.id, n]));
  const fmt = (v, digits = 3) => (v === null || v === undefined ? "—" : Number(v).toPrecision(digits));
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };

  function option(select, value, label) { const o = el("option", label); o.value = value; select.append(o); }

  const sizeKey = () => (control("size") ? control("size").value : (data.size_keys || ["influence"])[0]);
  const sizeOf = (n) => Number(n[sizeKey()]) || 0;

  function setUpControls() {
    if (control("type")) {
      option(control("type"), "all", data.kind === "coordination" ? "all types (averaged)" : "all actions (combined)");
      Object.keys(data.type_edges || {}).forEach((t) => option(control("type"), t, (data.type_labels || {})[t] || t));
    }
    if (control("rule")) {
      option(control("rule"), "significant", `significant (${(counts().significant ?? "?").toLocaleString()} edges)`);
      const loose = data.kind === "coordination" ? "paper" : "raw";
      const kept = counts().paper_kept !== undefined ? `${counts().paper_kept.toLocaleString()} kept of ` : "";
      if (data.rule === loose) option(control("rule"), loose, `${loose === "paper" ? "paper: M < 1" : "raw"} (${kept}${(counts()[loose] ?? "?").toLocaleString()} edges)`);
      control("rule").value = data.rule;  // the view opens on the rule the run asked for; significant is one switch away
    }
    if (control("size")) Object.entries(data.size_keys_labels || {}).forEach(([k, label]) => option(control("size"), k, label));
    const communities = [...new Set(data.nodes.map((n) => n.community))].sort((a, b) => a - b);
    option(control("community"), "", "all");
    communities.forEach((c) => option(control("community"), String(c), `community ${c}`));
    option(control("colour"), "community", "community");
    (data.label_keys || []).forEach((k) => option(control("colour"), `label:${k}`, k));
    if ((data.label_keys || []).includes("account_category")) control("colour").value = "label:account_category";
    if (data.colour_default) control("colour").value = data.colour_default;
    const rules = document.querySelector('[data-testid="rule-counts"]');
    if (rules) rules.textContent = ruleCounts();
    document.querySelectorAll("[data-filter]").forEach((c) => c.addEventListener("change", draw));
    control("type")?.addEventListener("change", () => { if (rules) rules.textContent = ruleCounts(); });
  }

  function counts() {
    const type = control("type")?.value ?? "all";
    if (data.kind === "coordination") return data.counts[type] || data.counts.all || {};
    return (type !== "all" && (data.type_counts || {})[type]) || data.counts || {};  // co-action: each action has its own test
  }

  function ruleCounts() {
    const c = counts();
    const coordination = data.kind === "coordination";
    const loose = coordination ? `the paper's M < 1 rule keeps ${(c.paper ?? 0).toLocaleString()}` : `raw weight keeps ${(c.raw ?? 0).toLocaleString()}`;
    const pairs = c.pairs ? ` of ${c.pairs.toLocaleString()} ordered pairs` : "";
    let stored = "";
    if (data.rule === "significant") {
      stored = coordination ? "Only the significant edges were stored: this run used the significant rule. Run it again with rule “paper” to switch to the paper's edges."
        : "Only the significant edges were stored: this run used the significant rule. Run it again with rule “raw” to see every pair.";
    } else if (coordination && c.paper_kept !== undefined) {
      stored = `Stored under the paper rule: each account's ${c.paper_top_k} strongest M < 1 edges plus every pair with p ≤ α ` +
        `(${c.paper_kept.toLocaleString()} edges); switch the rule to compare.`;
    } else {
      stored = "Both rules were stored: switch the rule to compare.";
    }
    return `Edges per rule: significant keeps ${(c.significant ?? 0).toLocaleString()}, ${loose}${pairs}. ${stored}`;
  }

  function filteredEdges() {
    const type = control("type")?.value ?? "all";
    const source = type === "all" ? data.edges : data.type_edges[type] || [];
    const rule = control("rule")?.value ?? "all";
    const giant = control("giant")?.checked;
    const minWeight = Number(control("min-weight").value) || 0;
    const community = control("community").value;
    return source.filter((e) => nodes.has(e.source) && nodes.has(e.target) && e.weight >= minWeight &&
      (!giant || (nodes.get(e.source).giant && nodes.get(e.target).giant)) &&
      (rule !== "significant" || e.significant) &&
      (community === "" || (String(nodes.get(e.source).community) === community && String(nodes.get(e.target).community) === community)));
  }

  function nodeKey(node, colour) {
    if (colour === "community") return `community ${node.community}`;
    const value = node.labels?.[colour.slice(6)];
    return value === undefined || value === "" ? "unlabelled" : String(value);
  }

  function edgeKey(edge, colour) {
    const a = nodes.get(edge.source), b = nodes.get(edge.target);
    if (colour === "community") return a.community === b.community ? "within a community" : "between communities";
    // edges by label pairing (docs/methods.md §influence model, fig. 1)
    return `${nodeKey(a, colour)} → ${nodeKey(b, colour)}`;
  }

  function colourMap(keys) { const map = new Map(); [...keys].sort().forEach((k, i) => map.set(k, PALETTE[i % PALETTE.length])); return map; }

  function traces(nodeList, edges, colour, { mids = Boolean(evidenceUrl), legend = true } = {}) {
    const groups = new Map();
    edges.forEach((e) => { const k = edgeKey(e, colour); if (!groups.has(k)) groups.set(k, []); groups.get(k).push(e); });
    const edgeColours = colourMap(groups.keys());
    const out = [];
    groups.forEach((list, key) => {
      const x = [], y = [];
      list.forEach((e) => { const a = nodes.get(e.source) || e._a, b = nodes.get(e.target) || e._b; x.push(a.x, b.x, null); y.push(a.y, b.y, null); });
      out.push({ type: "scattergl", mode: "lines", x, y, name: key, hoverinfo: "skip", showlegend: legend,
        line: { width: 1, color: edgeColours.get(key) }, opacity: 0.45, meta: "edges" });
    });
    if (mids && edges.length) {
      out.push({ type: "scattergl", mode: "markers", name: "edges (click)", showlegend: false, meta: "mids",
        x: edges.map((e) => (nodes.get(e.source).x + nodes.get(e.target).x) / 2),
        y: edges.map((e) => (nodes.get(e.source).y + nodes.get(e.target).y) / 2),
        customdata: edges.map((_, i) => i), marker: { size: 7, color: "rgba(100,116,139,0.25)" },
        text: edges.map((e) => `${name(nodes.get(e.source))} ${data.directed === false ? "–" : "→"} ${name(nodes.get(e.target))}<br>weight ${fmt(e.weight)}`),
        hovertemplate: "%{text}<extra></extra>" });
    }
    const nodeColours = colourMap(new Set(nodeList.map((n) => nodeKey(n, colour))));
    const maxSize = nodeList.reduce((m, n) => Math.max(m, sizeOf(n)), 1e-9);
    out.push({ type: "scattergl", mode: "markers", name: noun, showlegend: false, meta: "nodes",
      x: nodeList.map((n) => n.x), y: nodeList.map((n) => n.y), customdata: nodeList.map((n) => n.id),
      text: nodeList.map((n) => `${name(n)}<br>${nodeKey(n, colour)}<br>${sizeKey()} ${fmt(sizeOf(n))}`),
      hovertemplate: "%{text}<extra></extra>",
      marker: { size: nodeList.map((n) => 6 + 24 * Math.sqrt(sizeOf(n) / maxSize)),
        color: nodeList.map((n) => nodeColours.get(nodeKey(n, colour))), line: { width: 0.5, color: "#fff" } } });
    return out;
  }

  // Up to a dozen edge groups fit in a row under the plot; more (8 account categories make up to 64 pairings)
  // go in a vertical legend at the side, which Plotly scrolls inside the plot instead of spilling onto the page.
  const layout = (height, groups = 0) => ({ height, margin: { l: 10, r: 10, t: 10, b: 10 }, hovermode: "closest", dragmode: "pan",
    xaxis: { visible: false }, yaxis: { visible: false, scaleanchor: "x" },
    legend: groups > 12 ? { orientation: "v", x: 1.01, y: 1, font: { size: 10 } } : { orientation: "h", y: -0.02 } });

  let shown = [];
  function draw() {
    shown = filteredEdges();
    const colour = control("colour").value;
    const community = control("community").value;
    const giant = control("giant")?.checked;
    const nodeList = data.nodes.filter((n) => (community === "" || String(n.community) === community) && (!giant || n.giant));
    if (useGL) drawGL(nodeList, shown, colour);
    else {
      const drawn = traces(nodeList, shown, colour);
      window.Plotly.react(plot, drawn, layout(560, drawn.filter((t) => t.meta === "edges").length), config);
    }
    document.querySelector('[data-testid="network-shown"]').textContent = `${shown.length.toLocaleString()} edges, ${nodeList.length.toLocaleString()} ${noun} shown`;
    fillEdgeTable();
  }

  // ---------------------------------------------------------------- graph-gl.js (large networks)
  let payload = null;          // the binary network: { header, arrays } (GraphGL.decode)
  let graph = null;            // the renderer
  const nodeIndex = new Map(); // node id -> its index in the payload's arrays
  let payloadEdges = null;     // data.edges, when they came from the payload (in its order)
  const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

  /** The binary payload: positions for every node (the stored layout, or the one laid out now for an older row),
   * and, where the page left them out, the edges. */
  async function loadBinary() {
    payload = await window.GraphGL.load(plot.dataset.binary);
    const { header, arrays } = payload;
    header.ids.forEach((id, i) => {
      nodeIndex.set(id, i);
      const node = nodes.get(id);
      if (node) { node.x = arrays.positions[2 * i]; node.y = arrays.positions[2 * i + 1]; }
    });
    if (data.edges == null) data.edges = payloadEdges = edgesOf(payload);
    if (header.layout_filled) note(`This analysis was stored without a layout: it was laid out now (${header.layout_filled}) and saved.`);
  }

  function edgesOf({ header, arrays }) {
    const out = new Array(header.edges);
    for (let e = 0; e < header.edges; e++) {
      const edge = { source: header.ids[arrays.edges[2 * e]], target: header.ids[arrays.edges[2 * e + 1]], weight: arrays.weights[e] };
      if (arrays.q) edge.q = Number.isNaN(arrays.q[e]) ? null : arrays.q[e];
      if (arrays.significant) edge.significant = arrays.significant[e] === 1;
      out[e] = edge;
    }
    return out;
  }

  function drawGL(nodeList, edges, colour) {
    const n = payload.header.nodes;
    const visible = new Uint8Array(n), colours = new Uint8Array(n * 4), sizes = new Float32Array(n);
    const keys = colourMap(new Set(nodeList.map((node) => nodeKey(node, colour))));
    const most = nodeList.reduce((m, node) => Math.max(m, sizeOf(node)), 1e-9);
    nodeList.forEach((node) => {
      const i = nodeIndex.get(node.id);
      if (i === undefined) return;
      visible[i] = 1;
      colours.set([...rgb(keys.get(nodeKey(node, colour))), 255], 4 * i);
      sizes[i] = 4 + 14 * Math.sqrt(sizeOf(node) / most);
    });
    let pairs = payload.arrays.edges;  // every edge of the payload shown (the first draw): its own array
    const all = data.edges === payloadEdges && edges.length === data.edges.length && edges[0] === data.edges[0];
    if (!all) {
      pairs = new Uint32Array(edges.length * 2);
      edges.forEach((e, k) => { pairs[2 * k] = nodeIndex.get(e.source); pairs[2 * k + 1] = nodeIndex.get(e.target); });
    }
    const update = { edges: pairs, colours, sizes, visible };
    if (graph) graph.update(update);
    else {
      plot.style.height = "560px";
      graph = window.GraphGL.create(plot, { positions: payload.arrays.positions, ids: payload.header.ids,
        communities: payload.arrays.communities, communityNone: payload.header.community_none, label: hoverText, ...update });
      if (!graph) return;
      plot.addEventListener("graph:select", onSelect);
      plot.append(legend);
    }
    fillLegend(keys);
  }

  function hoverText(i) {
    const node = nodes.get(payload.header.ids[i]);
    return node ? `${name(node)}\n${nodeKey(node, control("colour").value)}\n${sizeKey()} ${fmt(sizeOf(node))}` : String(payload.header.ids[i]);
  }

  const legend = el("ul", undefined, "graph-gl-legend");
  legend.dataset.testid = "network-legend";
  Object.assign(legend.style, { position: "absolute", top: "6px", right: "6px", margin: 0, padding: "4px 8px", listStyle: "none",
    background: "rgba(255,255,255,.85)", font: "12px system-ui, sans-serif", maxHeight: "40%", overflow: "auto" });

  function fillLegend(keys) {
    const items = [...keys.entries()].slice(0, 12).map(([key, colour]) => {
      const item = el("li"), swatch = el("span", "●");
      swatch.style.color = colour;
      item.append(swatch, ` ${key}`);
      return item;
    });
    if (keys.size > 12) items.push(el("li", `… and ${keys.size - 12} more`, "muted"));
    legend.replaceChildren(...items);
  }

  /** A click on a node selects it (its partners in the panel), a shift-click its community; the page's own events
   * ("network:node", "network:community") carry them on, for spread.js and, later, the workspace. */
  function onSelect(event) {
    const picked = event.detail;
    graph.setSelected(picked.ids);
    if (picked.type === "node") {
      showAccount(picked.id);
      plot.dispatchEvent(new CustomEvent("network:node", { detail: nodes.get(picked.id) }));
    } else if (picked.type === "community") {
      showCommunity(picked.community, picked.ids);
      plot.dispatchEvent(new CustomEvent("network:community", { detail: { community: picked.community, ids: picked.ids } }));
    }
  }

  function showCommunity(community, ids) {
    const members = ids.map((id) => nodes.get(id)).filter(Boolean).sort((a, b) => sizeOf(b) - sizeOf(a));
    const list = el("ul");
    members.slice(0, 15).forEach((node) => list.append(el("li", `${name(node)} · ${sizeKey()} ${fmt(sizeOf(node))}`)));
    panel.replaceChildren(el("h3", `community ${community}`), el("p", `${members.length.toLocaleString()} ${noun} shown; the strongest:`, "muted"), list);
  }

  function note(text, cls = "muted") {
    const p = document.querySelector('[data-testid="network-note"]');
    if (!p) return;
    p.textContent = text;
    p.className = cls;
    p.hidden = false;
  }

  /** The first k of list in order (one pass with a small sorted buffer: 50,000 edges need no full sort). */
  function strongest(list, k, order) {
    const top = [];
    for (const item of list) {
      if (top.length === k && order(item, top[k - 1]) >= 0) continue;
      let i = top.length;
      while (i > 0 && order(item, top[i - 1]) < 0) i--;
      top.splice(i, 0, item);
      if (top.length > k) top.pop();
    }
    return top;
  }

  function fillEdgeTable() {
    edgeTable.replaceChildren();
    // The most significant first: a weight near 1 can rest on one shared rare entity, a small q cannot.
    const ranked = strongest(shown, 25, (a, b) => (a.q ?? 1) - (b.q ?? 1) || b.weight - a.weight);
    ranked.forEach((e) => {
      const row = el("tr"); row.dataset.testid = "edge-row";
      row.append(el("td", name(nodes.get(e.source))), el("td", name(nodes.get(e.target))), el("td", fmt(e.weight), "num"));
      if (!evidenceUrl) { edgeTable.append(row); return; }
      row.append(el("td", fmt(e.q, 2), "num"));
      const button = el("button", "Evidence", "btn btn-small"); button.type = "button"; button.dataset.testid = "edge-evidence";
      button.addEventListener("click", () => showEvidence(e.source, e.target));
      const cell = el("td"); cell.append(button); row.append(cell);
      edgeTable.append(row);
    });
  }

  function partners(id) {
    const sums = new Map();
    shown.forEach((e) => {
      if (e.source !== id && e.target !== id) return;
      const other = e.source === id ? e.target : e.source;
      const s = sums.get(other) || { out: 0, in: 0 };
      if (e.source === id) s.out += e.weight; else s.in += e.weight;
      sums.set(other, s);
    });
    return [...sums.entries()].map(([p, s]) => ({ partner: p, ...s, weight: s.out + s.in })).sort((a, b) => b.weight - a.weight).slice(0, 10);
  }

  function showAccount(id) {
    const node = nodes.get(id);
    panel.replaceChildren(el("h3", name(node)),
      el("p", `community ${node.community} · ${sizeKey()} ${fmt(sizeOf(node))} · strength ${fmt(node.strength)}`, "muted"));
    const table = el("table", undefined, "table table-compact"); table.dataset.testid = "partners";
    table.innerHTML = "<thead><tr><th>Strongest partners</th><th class='num'>out</th><th class='num'>in</th><th></th></tr></thead>";
    const body = el("tbody");
    partners(id).forEach((p) => {
      const row = el("tr"); row.dataset.testid = "partner-row";
      const cell = el("td");
      if (evidenceUrl) {
        const button = el("button", "Evidence", "btn btn-small"); button.type = "button";
        button.addEventListener("click", () => (p.out >= p.in ? showEvidence(id, p.partner) : showEvidence(p.partner, id)));
        cell.append(button);
      }
      row.append(el("td", name(nodes.get(p.partner))), el("td", fmt(p.out), "num"), el("td", fmt(p.in), "num"), cell);
      body.append(row);
    });
    table.append(body);
    panel.append(partners(id).length ? table : el("p", "No edge under the current filters.", "empty"));
  }

  async function showEvidence(source, target) {
    panel.replaceChildren(el("p", "Loading the evidence…", "muted"));
    const response = await fetch(`${evidenceUrl}?source=${encodeURIComponent(source)}&target=${encodeURIComponent(target)}`,
      { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) { panel.replaceChildren(el("p", `Could not load the evidence (${response.status}).`, "error")); return; }
    const answer = await response.json();
    // a multi-scale coordination answers for each bin size: show the one drawn
    const found = { ...answer, ...((answer.scales || {})[String(data.scale)] || {}) };
    const arrow = data.kind === "coordination" ? "→" : "↔";
    panel.replaceChildren(el("h3", `@${found.source.handle} ${arrow} @${found.target.handle}`),
      el("p", `${found.total.toLocaleString()} ${data.kind === "coordination" ? "entity uses in the next bin" : "co-actions within the window"}` +
        (found.total > found.rows.length ? ` (the first ${found.rows.length})` : ""), "muted"));
    const table = el("table", undefined, "table table-compact evidence"); table.dataset.testid = "evidence";
    table.innerHTML = "<thead><tr><th>Entity</th><th>First (UTC)</th><th>Then</th><th class='num'>Lag</th></tr></thead>";
    const body = el("tbody");
    found.rows.forEach((r) => {
      const row = el("tr"); row.dataset.testid = "evidence-row";
      const entity = el("td"); entity.append(el("span", r.entity, "chip"), el("div", r.entity_type, "muted"));
      const post = (time, p) => { const c = el("td"); c.append(el("div", time.replace("T", " ").slice(0, 19))); if (p) c.append(el("div", p.text, "muted evidence-text")); return c; };
      row.append(entity, post(r.source_time, r.source_post), post(r.target_time, r.target_post), el("td", `${Math.round(r.lag_s)} s`, "num"));
      body.append(row);
    });
    table.append(body);
    panel.append(table);
  }

  function onClick(event) {
    const point = event.points?.[0];
    if (!point) return;
    if (point.data.meta === "nodes") {
      showAccount(point.customdata);
      plot.dispatchEvent(new CustomEvent("network:node", { detail: nodes.get(point.customdata) }));
    } else if (point.data.meta === "mids" && evidenceUrl) { const e = shown[point.customdata]; showEvidence(e.source, e.target); }
  }

  function drawHalves() {
    if (!data.before_after) return;
    document.querySelectorAll("[data-half]").forEach((div) => {
      const half = data.before_after[div.dataset.half];
      half.nodes.forEach((n) => { if (!nodes.has(n.id)) nodes.set(n.id, { ...n }); });
      const own = new Map(half.nodes.map((n) => [n.id, n]));
      const edges = half.edges.filter((e) => own.has(e.source) && own.has(e.target)).map((e) => ({ ...e, _a: own.get(e.source), _b: own.get(e.target) }));
      const saved = new Map(nodes); own.forEach((n, id) => nodes.set(id, n));  // the halves share one layout of their own
      window.Plotly.newPlot(div, traces(half.nodes, edges, "community", { mids: false, legend: false }), layout(360), config);
      saved.forEach((n, id) => nodes.set(id, n));
    });
  }

  function drawTimelines() {
    document.querySelectorAll("[data-timeline]").forEach((span) => {
      const timeline = (data.timelines || [])[Number(span.dataset.timeline)] || [];
      if (!timeline.length) return;
      window.Plotly.newPlot(span, [{ type: "bar", x: timeline.map((t) => t.time), y: timeline.map((t) => t.count), marker: { color: "#64748b" } }],
        { width: 160, height: 40, margin: { l: 0, r: 0, t: 0, b: 0 }, xaxis: { visible: false }, yaxis: { visible: false } },
        { staticPlot: true, displayModeBar: false });
    });
  }

  // performance marks "network:start", "network:payload" (the binary read), "network:drawn" (the first draw queued)
  async function start() {
    performance.mark("network:start");
    setUpControls();
    const placed = data.nodes.every((n) => Number.isFinite(n.x) && Number.isFinite(n.y));
    if (useGL || !placed) {
      try { await loadBinary(); } catch (error) {
        note(`Could not load the network: ${error.message}`, "error");
        loadPlotly();  // the page's other charts still draw
        return;
      }
      performance.mark("network:payload");
    }
    if (!useGL) {  // Plotly draws this network: wait for it (it is there already unless the page deferred it)
      await new Promise((resolve) => { whenPlotly(resolve); loadPlotly(); });
    }
    draw();
    performance.mark("network:drawn");
    whenPlotly(() => {
      drawTimelines();
      if (!useGL) plot.on("plotly_click", onClick);
      drawHalves();
    });
    // the first frame is on screen after the next two animation frames: then the page's other charts
    requestAnimationFrame(() => requestAnimationFrame(() => loadPlotly()));
  }

  start();
})();
