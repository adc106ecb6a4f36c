/* The embedding map page (templates/analyses/embedding_map.html): a WebGL scatter (scattergl, one trace per
 * label or community so the legend toggles them) of the columns in json_script "embedding-map-data"; hover shows
 * the handle and the post's snippet (or the account's post count); accounts in no community are grey. A lasso or
 * box selection lists the selected accounts, each linked to the workspace's posts table with that account
 * selected, and one link opens them all there (workspace.js's URL state: c, accounts). Stays responsive at
 * 100,000 points: no per-point DOM, one hover string per point built once. */
"use strict";

(() => {
  const node = document.getElementById("embedding-map-data");
  const plot = document.getElementById("embedding-map");
  if (!node || !plot || !window.Plotly) return;
  const data = JSON.parse(node.textContent);
  const n = data.x.length;
  const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777", "#4b5563",
    "#65a30d", "#7c3aed", "#0d9488", "#b91c1c", "#1d4ed8", "#a16207", "#be185d", "#15803d", "#6d28d9", "#c2410c", "#334155"];
  const GREY = "#9ca3af";
  const table = document.querySelector('[data-testid="map-selection"]');
  const count = document.querySelector('[data-testid="map-selection-count"]');
  const openAll = document.querySelector('[data-testid="map-selection-workspace"]');
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
  const LISTED = 500;

  function hover(i) {
    const who = `@${data.handle[i]}`;
    const label = data.label[i] ? `<br>${data.colour_by ? `${escape(data.colour_by)}: ` : ""}${escape(data.label[i])}`
      : (data.none_label ? `<br>${escape(data.none_label)}` : "");
    if (data.unit === "account") return `${escape(who)}<br>${data.posts[i].toLocaleString()} posts${label}`;
    return `${escape(who)}<br>${escape(wrap(data.text[i] || ""))}${label}`;
  }

  function escape(text) {
    return String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  }

  function wrap(text) {  // plotly hover boxes do not wrap: break about every 60 characters, at a space
    return text.replace(/(.{1,60})(\s+|$)/g, "$1\n").trim().replaceAll("\n", "<br>");
  }

  function traces() {
    const groups = new Map();
    for (let i = 0; i < n; i += 1) {
      const key = data.label[i];
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(i);
    }
    const order = [...groups.keys()].sort((a, b) => groups.get(b).length - groups.get(a).length);
    const size = n > 20000 ? 3 : n > 2000 ? 4 : 6;
    let coloured = 0;
    return order.map((key) => {
      const index = groups.get(key);
      const grey = key === "" && Boolean(data.none_label);  // outside every community
      const color = grey ? GREY : PALETTE[coloured++ % PALETTE.length];
      return {
        type: "scattergl",
        mode: "markers",
        name: key || data.none_label || (data.colour_by ? "(no label)" : "points"),
        x: index.map((i) => data.x[i]),
        y: index.map((i) => data.y[i]),
        customdata: index,
        text: index.map(hover),
        hovertemplate: "%{text}<extra></extra>",
        marker: { size, opacity: grey ? 0.5 : 0.75, color },
      };
    });
  }

  function workspaceLink(accounts) {  // one account also opens in the account panel
    const query = new URLSearchParams({ c: String(data.collection), accounts: accounts.join(",") });
    if (accounts.length === 1) query.set("account", String(accounts[0]));
    return `${data.workspace_url}?${query.toString().replaceAll("%2C", ",")}`;
  }

  function listSelection(event) {
    const tbody = table.querySelector("tbody");
    tbody.replaceChildren();
    const points = (event && event.points) || [];
    if (!points.length) {
      table.hidden = true;
      openAll.hidden = true;
      count.textContent = "Lasso points on the map to list their accounts.";
      return;
    }
    const byAccount = new Map();
    points.forEach((p) => {
      const i = p.customdata;
      const row = byAccount.get(data.account[i]) || { id: data.account[i], handle: data.handle[i], labels: new Set(), n: 0 };
      row.n += data.unit === "account" ? data.posts[i] : 1;
      if (data.label[i]) row.labels.add(data.label[i]);
      byAccount.set(row.id, row);
    });
    const rows = [...byAccount.values()].sort((a, b) => b.n - a.n || a.handle.localeCompare(b.handle));
    rows.slice(0, LISTED).forEach((r) => {
      const tr = el("tr");
      const link = el("a", `@${r.handle}`);
      link.href = workspaceLink([r.id]);
      link.dataset.testid = "map-selected-account";
      const who = el("td");
      who.append(link);
      tr.append(who, el("td", [...r.labels].sort().join(", ") || "—"), el("td", r.n.toLocaleString(), "num"));
      tbody.append(tr);
    });
    const noun = data.unit === "post" ? "posts" : "accounts";
    const more = rows.length > LISTED ? ` (the ${LISTED} with the most ${data.unit === "post" ? "selected posts" : "posts"} listed)` : "";
    count.textContent = `${points.length.toLocaleString()} ${noun} selected, of ${rows.length.toLocaleString()} accounts${more}. Open an account to read its posts.`;
    table.hidden = false;
    const opened = rows.slice(0, data.ids_max);
    openAll.href = workspaceLink(opened.map((r) => r.id));
    openAll.textContent = rows.length > opened.length
      ? `Open the ${opened.length.toLocaleString()} accounts with the most posts in the workspace`
      : `Open ${opened.length === 1 ? "this account" : `these ${opened.length.toLocaleString()} accounts`} in the workspace`;
    openAll.hidden = false;
  }

  const axis = { showticklabels: false, zeroline: false, showgrid: false, title: { text: "" } };
  const layout = {
    height: 640,
    margin: { l: 10, r: 10, t: 10, b: 40 },
    dragmode: "lasso",
    hovermode: "closest",
    xaxis: axis,
    yaxis: { ...axis, scaleanchor: "x" },
    legend: { itemsizing: "constant", orientation: "h", x: 0, y: 0, yanchor: "top" },  // below: the mode bar is top right
    showlegend: true,
  };
  const config = { responsive: true, displaylogo: false };
  window.Plotly.newPlot(plot, traces(), layout, config).then(() => {
    plot.on("plotly_selected", listSelection);
    plot.on("plotly_deselect", () => listSelection(null));
    plot.dataset.drawn = "1";  // drawn and listening: tests wait for this state
  });
})();
