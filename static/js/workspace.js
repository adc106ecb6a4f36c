/* The investigation workspace: panels that share one selection, the whole view kept in the URL.
 *
 * State (the query string; a link or a pin reopens exactly this view for any member):
 *   c          the collection the table and timeline read
 *   panels     the panels in their order: table, timeline, account, post, notes, pins, net-<analysis>, map-<analysis>
 *   wide       the panels drawn across both columns
 *   accounts   selected account ids (comma-separated)      community  "<network analysis>:<community number>"
 *   entity     selected entity ids (a hashtag, a link...)   from, to   the brushed time range (UTC, to exclusive)
 *   account    the account shown in the account panel       post       the post shown in the post panel
 *   q, label, score, min, sort                              the table's own filters (label "key:value")
 * Every change goes through update(); each panel redraws from the keys it reads. While any panel waits for the
 * API, #workspace has data-state="loading"; when all are drawn, "ready" and data-drawn counts the redraws.
 * A network panel draws with Plotly, or a large one with graph-gl.js from the binary payload (see "stored networks";
 * ?renderer=gl or ?renderer=plotly picks one); either way its plot carries data-drawn-edges and data-lit-nodes.
 */
"use strict";

(() => {
  const root = document.getElementById("workspace");
  if (!root) return;
  const config = JSON.parse(document.getElementById("workspace-config").textContent);
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]")?.value || "";
  const API = `/api/investigations/${config.investigation}`;
  const KEYS = ["c", "panels", "wide", "accounts", "community", "entity", "from", "to", "account", "post", "q", "label",
    "score", "min", "sort"];
  const FILTERS = { accounts: "accounts", community: "community", entity: "entity", q: "q", label: "label", score: "score",
    min: "min_score" };
  const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d"];
  const FADED = "rgba(148,163,184,0.35)";
  const PLOT_CONFIG = { responsive: true, displaylogo: false };
  const PAGE = 50;
  // ?renderer=gl or ?renderer=plotly (as on the network page) picks how the network panels draw: for tests and for a
  // browser whose WebGL is slow. It is no part of the view (pins and the saved layout leave it out), but stays in
  // the address while the page is open.
  const RENDERER = new URLSearchParams(window.location.search).get("renderer");

  let state = {};
  const panels = new Map();  // panel id -> {id, el, body, update(changed)}
  let pending = 0;
  let drawn = 0;

  // ---------------------------------------------------------------- small helpers
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  };
  const testid = (e, id) => { e.dataset.testid = id; return e; };
  // A score beyond the model's training range (the score page's mark): the number is shown, and doubted.
  const unreliableBadge = () => {
    const b = testid(el("span", "unreliable", "badge badge-failed"), "ws-unreliable");
    b.title = "This post is far from the posts the model was trained on: its score says little.";
    return b;
  };
  const button = (text, onClick, cls = "btn btn-small") => {
    const b = el("button", text, cls); b.type = "button"; b.addEventListener("click", onClick); return b;
  };
  const ids = (text) => (text ? text.split(",").map(Number).filter((n) => Number.isInteger(n) && n > 0) : []);
  const fmt = (v, digits = 3) => (v === null || v === undefined ? "—" : Number(v).toFixed(digits));
  const shortTime = (iso) => (iso ? iso.replace("T", " ").slice(0, 19) : "—");
  // Plotly's date axes read "YYYY-MM-DD HH:MM:SS" as given (no time zone); the API speaks UTC ISO-8601.
  const plotTime = (iso) => iso.replace("T", " ").replace(/(\.\d+)?(Z|[+-]00:?00)$/, "");
  const apiTime = (plotValue) => new Date(`${String(plotValue).replace(" ", "T").replace(/Z$/, "")}Z`).toISOString().slice(0, 19);

  function showError(message) {
    const box = root.querySelector('[data-testid="ws-error"]');
    box.textContent = message; box.hidden = !message;
  }

  // Counts the requests in flight, so a test (or the bench) waits for "ready" rather than for time.
  function busy(delta) {
    pending += delta;
    if (pending === 0) { drawn += 1; root.dataset.drawn = String(drawn); root.dataset.state = "ready"; }
    else root.dataset.state = "loading";
  }

  async function api(url, { method = "GET", body, signal } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) { headers["Content-Type"] = "application/json"; headers["X-CSRFToken"] = csrf; }
    const response = await fetch(url, { method, headers, credentials: "same-origin", signal,
      body: body === undefined ? undefined : JSON.stringify(body) });
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      const detail = data && typeof data === "object"
        ? Object.entries(data).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(" ") : v}`).join("; ") : "";
      const error = new Error(detail || `${response.status} ${response.statusText}`);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  // One request per panel at a time: a newer selection cancels the panel's older request.
  function loader(panel) {
    let controller = null;
    return async (url, draw) => {
      controller?.abort();
      const mine = new AbortController();
      controller = mine;
      busy(1);
      try {
        const data = await api(url, { signal: mine.signal });
        if (controller === mine) draw(data);
      } catch (error) {
        if (error.name !== "AbortError") panel.body.replaceChildren(el("p", `Could not load: ${error.message}`, "error"));
      } finally {
        busy(-1);
      }
    };
  }

  // ---------------------------------------------------------------- state and URL
  function query(from = state) {
    const params = new URLSearchParams();
    KEYS.forEach((k) => { if (from[k]) params.set(k, from[k]); });
    return params.toString();
  }

  function address() {
    const params = new URLSearchParams(query());
    if (RENDERER) params.set("renderer", RENDERER);
    return `${window.location.pathname}?${params}`;
  }

  function readUrl() {
    const params = new URLSearchParams(window.location.search);
    const read = {};
    KEYS.forEach((k) => { if (params.get(k)) read[k] = params.get(k); });
    return read;
  }

  function defaults(read) {
    const out = { ...read };
    const known = new Set(config.collections.map((c) => String(c.id)));
    if (!known.has(out.c)) {
      const newestNetwork = config.networks[0];
      const largest = [...config.collections].sort((a, b) => b.posts - a.posts)[0];
      out.c = String(newestNetwork?.collection ?? largest?.id ?? "");
    }
    if (!out.panels) {
      const network = config.networks.find((n) => String(n.collection) === out.c) || config.networks[0];
      out.panels = ["table", "timeline", network && `net-${network.id}`, config.maps[0] && `map-${config.maps[0].id}`,
        "account", "post", "notes", "pins"].filter(Boolean).join(",");
      out.wide = "table";
    }
    if (!out.score) {
      const score = config.scores.find((s) => String(s.collection) === out.c);
      if (score) out.score = String(score.id);
    }
    return out;
  }

  let saveTimer = null;
  function saveLayoutSoon() {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(() => {
      api(`${API}/workspace/layout/`, { method: "PUT", body: { state: query() } }).catch(() => {});
    }, 800);
  }

  /* The one way to change the view: panels redraw from what changed; a selection change is a new history entry
   * (Back returns to the previous selection), a filter edit replaces the current one. */
  function update(changes, { push = true } = {}) {
    const changed = new Set();
    Object.entries(changes).forEach(([k, v]) => {
      const value = v === null || v === undefined || v === "" ? undefined : String(v);
      if (state[k] !== value) {
        changed.add(k);
        if (value === undefined) delete state[k]; else state[k] = value;
      }
    });
    if (!changed.size) return;
    window.history[push ? "pushState" : "replaceState"](null, "", address());
    saveLayoutSoon();
    refresh(changed);
  }

  const selectionChanged = (changed) => ["c", "accounts", "community", "entity"].some((k) => changed.has(k));
  const filtersChanged = (changed) => ["c", ...Object.keys(FILTERS)].some((k) => changed.has(k));

  function filterParams() {
    const params = new URLSearchParams({ collection: state.c || "" });
    Object.entries(FILTERS).forEach(([k, name]) => { if (state[k]) params.set(name, state[k]); });
    return params;
  }

  function refresh(changed) {
    busy(1);  // held while the panels start their requests, so "ready" cannot flash between two of them
    try {
      const added = changed.has("panels") || changed.has("wide") ? arrange() : new Set();
      drawBar();
      panels.forEach((panel, id) => panel.update(added.has(id) ? new Set(KEYS) : changed));
    } finally {
      busy(-1);
    }
  }

  // ---------------------------------------------------------------- the bar: collection, selection, panel picker
  const collectionSelect = root.querySelector('[data-control="collection"]');
  const addSelect = root.querySelector('[data-control="add-panel"]');

  function panelTitle(id) {
    const titles = { table: "Posts", timeline: "Timeline", account: "Account", post: "Post", notes: "Notes", pins: "Pins" };
    if (titles[id]) return titles[id];
    const [type, pk] = id.split("-");
    const listed = (type === "net" ? config.networks : config.maps).find((a) => String(a.id) === pk);
    return listed ? `${listed.title} #${pk}` : `${type === "net" ? "Network" : "Map"} #${pk}`;
  }

  function drawBar() {
    collectionSelect.replaceChildren(...config.collections.map((c) => {
      const o = el("option", `${c.name} (${Number(c.posts).toLocaleString()} posts)`); o.value = String(c.id); return o;
    }));
    collectionSelect.value = state.c || "";
    const shown = new Set((state.panels || "").split(",").filter(Boolean));
    const choices = ["table", "timeline", "account", "post", "notes", "pins",
      ...config.networks.map((n) => `net-${n.id}`), ...config.maps.map((m) => `map-${m.id}`)].filter((p) => !shown.has(p));
    const first = el("option", "Add a panel…"); first.value = "";
    addSelect.replaceChildren(first, ...choices.map((p) => { const o = el("option", panelTitle(p)); o.value = p; return o; }));

    const box = root.querySelector('[data-testid="ws-selection"]');
    const chips = [];
    const chip = (text, key) => {
      const c = el("span", text, "chip ws-chip"); c.dataset.testid = `ws-chip-${key}`;
      c.append(button("×", () => update({ [key]: null, ...(key === "from" ? { to: null } : {}) }), "ws-chip-x"));
      chips.push(c);
    };
    if (state.community) chip(`community ${state.community.split(":")[1]} of #${state.community.split(":")[0]}`, "community");
    if (state.accounts) chip(`${ids(state.accounts).length} account${ids(state.accounts).length === 1 ? "" : "s"}`, "accounts");
    if (state.entity) chip(`${ids(state.entity).length} entit${ids(state.entity).length === 1 ? "y" : "ies"}`, "entity");
    if (state.from || state.to) chip(`${shortTime(state.from)} → ${shortTime(state.to)}`, "from");
    box.replaceChildren(chips.length ? el("span", "Selection:", "muted") : el("span", "Nothing selected: every panel shows the whole collection.", "muted"), ...chips);
    if (chips.length) box.append(button("Clear", clearSelection, "btn btn-small btn-link"));
  }

  function clearSelection() { update({ accounts: null, community: null, entity: null, from: null, to: null }); }

  collectionSelect.addEventListener("change", () => update({ c: collectionSelect.value, accounts: null, community: null,
    entity: null, account: null, post: null, from: null, to: null, score: null }));
  addSelect.addEventListener("change", () => {
    if (!addSelect.value) return;
    update({ panels: [...(state.panels || "").split(",").filter(Boolean), addSelect.value].join(",") }, { push: false });
  });

  // ---------------------------------------------------------------- panels and their arrangement
  const grid = root.querySelector('[data-testid="ws-panels"]');
  const MAKERS = { table: tablePanel, timeline: timelinePanel, account: accountPanel, post: postPanel, notes: notesPanel,
    pins: pinsPanel, net: networkPanel, map: mapPanel };

  function arrange() {
    const wanted = (state.panels || "").split(",").filter((p) => MAKERS[p.split("-")[0]]);
    const wide = new Set((state.wide || "").split(","));
    [...panels.keys()].forEach((id) => {
      if (wanted.includes(id)) return;
      panels.get(id).close?.();  // a WebGL network gives its context back (a browser keeps only a few)
      panels.get(id).el.remove();
      panels.delete(id);
    });
    const added = new Set();
    wanted.forEach((id, index) => {
      let panel = panels.get(id);
      if (!panel) {
        panel = makePanel(id);
        panels.set(id, panel);
        added.add(id);
      }
      panel.el.classList.toggle("ws-wide", wide.has(id));
      panel.el.style.order = String(index);
      grid.append(panel.el);
    });
    return added;  // the new panels draw everything; the others only what changed
  }

  function makePanel(id) {
    const [type, pk] = id.split("-");
    const section = testid(el("section", undefined, "card ws-panel"), `ws-panel-${type}`);
    section.dataset.panel = id;
    const head = el("div", undefined, "ws-panel-head");
    const title = el("h2", panelTitle(id));
    const move = (step) => () => {
      const list = state.panels.split(",");
      const i = list.indexOf(id), j = i + step;
      if (j < 0 || j >= list.length) return;
      [list[i], list[j]] = [list[j], list[i]];
      update({ panels: list.join(",") }, { push: false });
    };
    const toggleWide = () => {
      const wide = new Set((state.wide || "").split(",").filter(Boolean));
      if (wide.has(id)) wide.delete(id); else wide.add(id);
      update({ wide: [...wide].join(",") }, { push: false });
    };
    const close = () => update({ panels: state.panels.split(",").filter((p) => p !== id).join(",") }, { push: false });
    const tools = el("div", undefined, "ws-panel-tools");
    tools.append(button("◀", move(-1), "ws-tool"), button("▶", move(1), "ws-tool"), button("⇔", toggleWide, "ws-tool"),
      testid(button("×", close, "ws-tool"), "ws-panel-close"));
    tools.querySelectorAll("button").forEach((b, i) => { b.title = ["Move earlier", "Move later", "Wide / narrow", "Close"][i]; });
    head.append(title, tools);
    const body = el("div", undefined, "ws-panel-body");
    const template = document.getElementById(`ws-panel-${type === "net" ? "network" : type}`);
    body.append(template.content.cloneNode(true));
    section.append(head, body);
    const panel = { id, el: section, body, title };
    panel.load = loader(panel);
    panel.update = MAKERS[type](panel, pk ? Number(pk) : null);
    return panel;
  }

  // ---------------------------------------------------------------- the posts table
  let tableRows = [];  // the posts listed, in order
  let activeRow = -1;

  function tablePanel(panel) {
    const tbody = panel.body.querySelector("tbody");
    const count = panel.body.querySelector('[data-testid="ws-table-count"]');
    const more = panel.body.querySelector('[data-action="more"]');
    const control = (name) => panel.body.querySelector(`[data-control="${name}"]`);
    let next = null;
    let total = "";

    const scoreSelect = control("score");
    function scoreChoices() {
      const none = el("option", "no scores"); none.value = "";
      scoreSelect.replaceChildren(none, ...config.scores.filter((s) => String(s.collection) === state.c).map((s) => {
        const o = el("option", `${s.title} #${s.id}`); o.value = String(s.id); return o;
      }));
    }
    let typing = null;
    const onText = (key) => () => { clearTimeout(typing); typing = setTimeout(() => update({ [key]: control(key).value.trim() }, { push: false }), 300); };
    control("q").addEventListener("input", onText("q"));
    control("label").addEventListener("input", onText("label"));
    control("min").addEventListener("change", () => update({ min: control("min").value }, { push: false }));
    scoreSelect.addEventListener("change", () => update({ score: scoreSelect.value, ...(scoreSelect.value ? {} : { min: null, sort: (state.sort || "").includes("score") ? null : state.sort }) }, { push: false }));
    control("sort").addEventListener("change", () => update({ sort: control("sort").value === "time" ? null : control("sort").value }, { push: false }));
    more.addEventListener("click", () => fetchPage(true));

    function url(cursor) {
      const params = filterParams();
      if (state.from) params.set("from", state.from);
      if (state.to) params.set("to", state.to);
      if (state.sort && (state.score || !state.sort.includes("score"))) params.set("sort", state.sort);
      params.set("limit", String(PAGE));
      if (cursor) params.set("cursor", cursor);
      return `${API}/workspace/posts/?${params}`;
    }

    function row(post, index) {
      const tr = testid(el("tr"), "ws-row");
      tr.dataset.post = String(post.id);
      tr.dataset.account = String(post.account.id);
      const who = el("a", `@${post.account.handle}`); who.href = "#"; who.dataset.testid = "ws-row-account";
      who.addEventListener("click", (event) => {
        event.preventDefault(); event.stopPropagation();
        if (event.shiftKey) addAccount(post.account.id); else update({ account: post.account.id });
      });
      const accountCell = el("td"); accountCell.append(who);
      const text = el("td", post.text, "ws-text");
      Object.entries(post.labels || {}).slice(0, 3).forEach(([k, v]) => text.append(" ", el("span", `${k}: ${v}`, "chip chip-muted")));
      const scoreCell = el("td", fmt(post.score), "num");
      if (post.unreliable) scoreCell.append(" ", unreliableBadge());
      tr.append(el("td", shortTime(post.time), "nowrap"), accountCell, text, scoreCell);
      tr.addEventListener("click", () => activate(index));
      return tr;
    }

    function fetchPage(append) {
      if (!state.c) { count.textContent = "No collection yet: upload one first."; return; }
      panel.load(url(append ? next : null), (page) => {
        if (!append) { tbody.replaceChildren(); tableRows = []; activeRow = -1; }
        page.results.forEach((post) => { tableRows.push(post); tbody.append(row(post, tableRows.length - 1)); });
        next = page.next;
        more.hidden = !next;
        // The API counts on the first page only; the pages after it keep that count.
        if (page.count !== null) total = page.count_capped ? `more than ${page.count.toLocaleString()}` : page.count.toLocaleString();
        count.textContent = `${total} posts${describeFilters()} · ${tableRows.length.toLocaleString()} listed`;
        markActive();
      });
    }

    return (changed) => {
      if (changed.has("c") || changed.has("score")) scoreChoices();
      ["q", "label", "min"].forEach((k) => { if (document.activeElement !== control(k)) control(k).value = state[k] || ""; });
      scoreSelect.value = state.score || "";
      control("sort").value = state.sort || "time";
      if (filtersChanged(changed) || ["from", "to", "sort"].some((k) => changed.has(k))) fetchPage(false);
      else if (changed.has("post")) markActive();
    };
  }

  function describeFilters() {
    const parts = [];
    if (state.community) parts.push(`in community ${state.community.split(":")[1]}`);
    if (state.accounts) parts.push(`by ${ids(state.accounts).length} selected accounts`);
    if (state.entity) parts.push("using the selected entities");
    if (state.from || state.to) parts.push("in the time range");
    return parts.length ? ` ${parts.join(", ")}` : "";
  }

  function markActive() {
    document.querySelectorAll('[data-testid="ws-row"]').forEach((tr, i) => {
      const on = state.post ? tr.dataset.post === state.post : i === activeRow;
      tr.classList.toggle("ws-active", on);
      if (on) activeRow = i;
    });
  }

  function activate(index) {
    if (index < 0 || index >= tableRows.length) return;
    activeRow = index;
    const post = tableRows[index];
    update({ post: post.id }, { push: false });
    document.querySelectorAll('[data-testid="ws-row"]')[index]?.scrollIntoView({ block: "nearest" });
  }

  function addAccount(id) {
    const chosen = new Set(ids(state.accounts));
    chosen.add(Number(id));
    update({ accounts: [...chosen].join(","), community: null, account: id });
  }

  // ---------------------------------------------------------------- the timeline (brush a range)
  function timelinePanel(panel) {
    const plot = panel.body.querySelector('[data-testid="ws-timeline"]');
    const clear = panel.body.querySelector('[data-action="clear-range"]');
    clear.addEventListener("click", () => update({ from: null, to: null }));
    let bin = "day";
    let wired = false;

    // Each bar spans its bin: drawn at the bin's middle, as wide as the bin, so a drag across a day keeps that day.
    function bars(series, name, color) {
      const ms = bin === "hour" ? 3600e3 : 86400e3;
      const middle = (iso) => new Date(Date.parse(iso) + ms / 2).toISOString().replace("T", " ").slice(0, 19);
      return { type: "bar", name, x: series.map((b) => middle(b[0])), y: series.map((b) => b[1]), width: ms * 0.9,
        customdata: series.map((b) => b[0]), marker: { color }, hovertemplate: `%{customdata}: %{y} posts<extra>${name}</extra>` };
    }

    function draw(data) {
      bin = data.bin;
      const traces = [bars(data.all, "all posts", data.selected ? "#cbd5e1" : "#64748b")];
      if (data.selected) traces.push(bars(data.selected, "selection", "#2563eb"));
      const shapes = state.from || state.to ? [{ type: "rect", xref: "x", yref: "paper", y0: 0, y1: 1,
        x0: plotTime(state.from || data.all[0]?.[0] || ""), x1: plotTime(state.to || data.all.at(-1)?.[0] || ""),
        fillcolor: "rgba(37,99,235,0.12)", line: { width: 1, color: "#2563eb" } }] : [];
      window.Plotly.react(plot, traces, { height: 220, margin: { l: 40, r: 10, t: 10, b: 30 }, barmode: "overlay",
        bargap: 0.05, dragmode: "select", selectdirection: "h", showlegend: Boolean(data.selected),
        legend: { orientation: "h", y: 1.12 }, xaxis: { type: "date" }, yaxis: { fixedrange: true }, shapes },
        { ...PLOT_CONFIG, modeBarButtonsToRemove: ["lasso2d"] });
      plot.dataset.bin = bin;
      clear.hidden = !(state.from || state.to);
      if (!wired) {
        wired = true;
        plot.on("plotly_selected", (event) => {
          const range = event?.range?.x;
          if (range) update({ from: apiTime(range[0]), to: apiTime(range[1]) });
        });
        plot.on("plotly_click", (event) => {
          const first = event.points?.[0]?.customdata;
          if (!first) return;
          const start = new Date(first);
          const end = new Date(start.getTime() + (bin === "hour" ? 3600e3 : 86400e3));
          update({ from: start.toISOString().slice(0, 19), to: end.toISOString().slice(0, 19) });
        });
      }
    }

    return (changed) => {
      if (!state.c) return;
      if (filtersChanged(changed)) panel.load(`${API}/workspace/timeline/?${filterParams()}`, (data) => { panel.data = data; draw(data); });
      else if ((changed.has("from") || changed.has("to")) && panel.data) draw(panel.data);
    };
  }

  // ---------------------------------------------------------------- stored networks
  /* Two renderers, as on the network page (static/js/network.js): Plotly's scattergl from the JSON network, and, for a
   * network of config.gl_min_edges edges or more (the page's threshold) where the browser offers WebGL, graph-gl.js
   * from the binary payload: one request of typed arrays and a small header instead of the JSON, edges drawn in one
   * call, and a new selection sends only the highlight to the GPU. ?renderer=gl or ?renderer=plotly picks one for
   * every network panel. The edges counted are those the run found (the network list's count: the summary, read before
   * any request), so the choice is made before the first fetch and costs no second one. */
  let webgl = null;  // whether the browser offers WebGL: asked once
  function drawsWithGL(id) {
    if (RENDERER === "plotly" || !window.GraphGL) return false;
    webgl ??= window.GraphGL.supported();
    if (!webgl) return false;
    if (RENDERER === "gl") return true;
    const listed = config.networks.find((n) => n.id === id);
    return Number(listed?.edges) >= config.gl_min_edges;
  }

  const networkCache = new Map();  // analysis id -> Promise of its network: the JSON, or what its binary payload holds
  function network(id) {
    if (!networkCache.has(id)) {
      const fetched = drawsWithGL(id) ? window.GraphGL.load(`/api/analyses/${id}/network/binary/`).then(fromPayload)
        : api(`/api/analyses/${id}/network/`);
      networkCache.set(id, fetched.catch((e) => { networkCache.delete(id); throw e; }));
    }
    return networkCache.get(id);
  }

  /** The binary payload (ml/graphs/binary.py; header fields: apps/analyses/network_apis.py) in the JSON network's
   * shape where the panels read it: nodes with id, handle, community and, in an entity network, entity (its pk);
   * noun, prefix, node_type, collection. The payload itself rides along for the renderer. */
  function fromPayload(payload) {
    const { header, arrays } = payload;
    const nodes = header.ids.map((id, i) => ({ id, handle: header.names?.[i] ?? String(id),
      community: arrays.communities[i] === header.community_none ? null : arrays.communities[i],
      ...(header.entities ? { entity: header.entities[i] } : {}) }));
    return { payload, nodes, noun: header.noun, prefix: header.prefix, node_type: header.node_type,
      collection: header.collection };
  }

  /* The accounts the selection holds, as a Set of ids, or null when no account selection is made: the selected
   * accounts, or the members of the selected community (read from its network, fetched once). */
  async function selectedAccounts() {
    if (state.accounts) return new Set(ids(state.accounts));
    if (!state.community) return null;
    const [analysis, number] = state.community.split(":").map(Number);
    try {
      const net = await network(analysis);
      if (net.node_type === "entity") return null;
      return new Set(net.nodes.filter((n) => n.community === number).map((n) => n.id));
    } catch { return null; }
  }

  function networkPanel(panel, analysisId) {
    const plot = panel.body.querySelector('[data-testid="ws-network"]');
    const shown = panel.body.querySelector('[data-testid="ws-network-shown"]');
    const list = panel.body.querySelector('[data-testid="ws-communities"]');
    const gl = drawsWithGL(analysisId);
    let net = null;
    let wired = false;
    let active = null;  // node ids active in the brushed range, or null

    /* Which nodes the selection lights, for either renderer: the selected entities in an entity network; else the
     * selected accounts (or the members of a community selected in any network); else this network's community. */
    async function lighting() {
      const entityNet = net.node_type === "entity";
      const chosen = entityNet ? (state.entity ? new Set(ids(state.entity)) : null) : await selectedAccounts();
      const inCommunity = state.community?.startsWith(`${analysisId}:`) ? Number(state.community.split(":")[1]) : null;
      const on = (n) => (chosen ? chosen.has(entityNet ? (n.entity ?? n.id) : n.id) : inCommunity === null || n.community === inCommunity);
      return { on, anySelection: Boolean(chosen) || inCommunity !== null };
    }

    function describe(drawnEdges, allEdges, anySelection, litNodes, litEdges) {
      shown.textContent = `${drawnEdges.toLocaleString()} of ${allEdges.toLocaleString()} edges${active ? " whose two ends acted in the time range" : ""}` +
        `${anySelection ? ` · ${litNodes.toLocaleString()} selected ${net.noun}, ${litEdges.toLocaleString()} edges among them` : ""}`;
      plot.dataset.drawnEdges = String(drawnEdges);
      plot.dataset.litNodes = String(anySelection ? litNodes : 0);
    }

    /** A click on a node selects it (an entity network: its entity); shift adds the account to the selection. */
    function pick(node, shift) {
      if (net.node_type === "entity") update({ entity: node.entity ?? node.id, accounts: null, community: null });
      else if (shift) addAccount(node.id);
      else update({ accounts: node.id, community: null, account: node.id });
    }

    async function draw() {
      if (!net) return;
      const byId = new Map(net.nodes.map((n) => [n.id, n]));
      const { on, anySelection } = await lighting();
      const edges = net.edges.filter((e) => byId.has(e.source) && byId.has(e.target) && (!active || (active.has(e.source) && active.has(e.target))));
      const lit = edges.filter((e) => on(byId.get(e.source)) && on(byId.get(e.target)));
      const line = (list_, color, width) => {
        const x = [], y = [];
        list_.forEach((e) => { const a = byId.get(e.source), b = byId.get(e.target); x.push(a.x, b.x, null); y.push(a.y, b.y, null); });
        return { type: "scattergl", mode: "lines", x, y, hoverinfo: "skip", showlegend: false, line: { width, color } };
      };
      // With a selection, its nodes are drawn in one strong colour and everything else fades; without, by community.
      const colour = (n) => (anySelection ? (on(n) ? "#1d4ed8" : FADED) : PALETTE[Math.abs(n.community ?? 0) % PALETTE.length]);
      const maxStrength = net.nodes.reduce((m, n) => Math.max(m, Number(n.strength ?? n.count ?? n.influence ?? 1) || 0), 1e-9);
      const nodes = { type: "scattergl", mode: "markers", meta: "nodes", showlegend: false,
        x: net.nodes.map((n) => n.x), y: net.nodes.map((n) => n.y), customdata: net.nodes.map((n) => n.id),
        text: net.nodes.map((n) => `${net.prefix}${n.handle}<br>community ${n.community}`), hovertemplate: "%{text}<extra></extra>",
        marker: { size: net.nodes.map((n) => 5 + 14 * Math.sqrt((Number(n.strength ?? n.count ?? n.influence ?? 1) || 0) / maxStrength)),
          color: net.nodes.map(colour), line: { width: net.nodes.map((n) => (anySelection && on(n) ? 1.5 : 0.5)), color: "#fff" } } };
      const traces = [line(edges, "rgba(148,163,184,0.35)", 1), line(lit, "rgba(37,99,235,0.7)", 1.5), nodes];
      await window.Plotly.react(plot, traces, { height: 420, margin: { l: 5, r: 5, t: 5, b: 5 }, hovermode: "closest",
        dragmode: "pan", xaxis: { visible: false }, yaxis: { visible: false, scaleanchor: "x" } },
      { ...PLOT_CONFIG, modeBarButtonsToRemove: ["lasso2d", "select2d"] });
      describe(edges.length, net.edges.length, anySelection, net.nodes.filter(on).length, lit.length);
      if (!wired) {
        wired = true;
        plot.on("plotly_click", (event) => {
          const point = event.points?.find((p) => p.data.meta === "nodes");
          if (point) pick(byId.get(point.customdata), event.event?.shiftKey);
        });
      }
    }

    // ------------------------------------------------ graph-gl.js: the payload's arrays go to the GPU as they are
    let graph = null;
    let pairs = null;  // the edges drawn (node index pairs): the payload's, or those whose two ends acted in the range

    function activePairs() {
      const { header, arrays } = net.payload;
      if (!active) return arrays.edges;
      const acted = Uint8Array.from(header.ids, (id) => (active.has(id) ? 1 : 0));
      const kept = new Uint32Array(arrays.edges.length);
      let k = 0;
      for (let e = 0; e < arrays.edges.length; e += 2) {
        const s = arrays.edges[e], t = arrays.edges[e + 1];
        if (acted[s] && acted[t]) { kept[k++] = s; kept[k++] = t; }
      }
      return kept.subarray(0, k);
    }

    /** Draws with graph-gl.js: the edges again only when the time range changed them, the selection as the
     * renderer's highlight. Holds the panel busy until the frame is drawn, so "ready" means what it says. */
    async function drawGL(edgesChanged) {
      const { header, arrays } = net.payload;
      const { on, anySelection } = await lighting();
      if (edgesChanged || !pairs) pairs = activePairs();
      if (!graph) {
        plot.style.height = "420px";
        graph = window.GraphGL.create(plot, { positions: arrays.positions, ids: header.ids, edges: pairs,
          communities: arrays.communities, communityNone: header.community_none,
          label: (i) => `${net.prefix}${net.nodes[i].handle}\ncommunity ${net.nodes[i].community ?? "none"}` });
        if (!graph) { shown.textContent = "This browser gave no WebGL: the network cannot be drawn here."; return; }
        const drawn = new Promise((resolve) => plot.addEventListener("graph:drawn", resolve, { once: true }));
        wireGL();
        await drawn;
        if (!graph) return;  // the panel was closed meanwhile
      } else if (edgesChanged) graph.update({ edges: pairs });
      const lit = new Uint8Array(net.nodes.length);
      const litIds = [];
      if (anySelection) net.nodes.forEach((n, i) => { if (on(n)) { lit[i] = 1; litIds.push(n.id); } });
      graph.setSelected(litIds);
      graph.render();  // now, not on the next frame: the panel is drawn when it reports ready
      let litEdges = 0;
      for (let e = 0; e < pairs.length; e += 2) litEdges += lit[pairs[e]] & lit[pairs[e + 1]];
      describe(pairs.length / 2, header.edges, anySelection, litIds.length, litEdges);
    }

    /* The renderer's clicks into the shared selection. graph-gl.js reports a shift- or alt-click as its node's
     * community; here shift adds the account (as on a Plotly network) and alt selects the community, so the press's
     * keys are kept on the way down (a capturing listener runs before the canvas's own). */
    function wireGL() {
      let press = null;
      plot.addEventListener("pointerup", (event) => { press = event; }, true);
      plot.addEventListener("graph:select", (event) => {
        const picked = event.detail;
        const shift = Boolean(press?.shiftKey && !press?.altKey);
        if (picked.type === "community" && !shift) {
          update({ community: `${analysisId}:${picked.community}`, accounts: null, entity: null });
          return;
        }
        // a click on empty space ("none") keeps the selection; a shift-click's node is the one under the press
        const index = picked.type === "node" ? picked.index : picked.type === "community" ? graph.pick(press.clientX, press.clientY) : -1;
        if (index >= 0) pick(net.nodes[index], shift);
      });
      panel.close = () => { graph?.destroy(); graph = null; };
    }

    function communities() {
      const sizes = new Map();
      net.nodes.forEach((n) => sizes.set(n.community, (sizes.get(n.community) || 0) + 1));
      const ranked = [...sizes.entries()].filter(([c]) => c !== null && c !== undefined).sort((a, b) => b[1] - a[1]).slice(0, 12);
      list.replaceChildren(el("span", "Communities:", "muted"), ...ranked.map(([c, size]) => {
        const b = button(`${c} · ${size} ${net.noun}`, () => update({ community: `${analysisId}:${c}`, accounts: null, entity: null,
          c: net.collection ?? state.c }), "btn btn-small ws-community");
        b.dataset.testid = "ws-community";
        b.dataset.community = String(c);
        b.style.borderLeft = `4px solid ${PALETTE[Math.abs(c) % PALETTE.length]}`;
        return b;
      }));
    }

    function markCommunity() {
      list.querySelectorAll("[data-community]").forEach((b) => b.classList.toggle("ws-on", state.community === `${analysisId}:${b.dataset.community}`));
    }

    async function windowEdges() {
      if (!state.from && !state.to) { active = null; return; }
      const params = new URLSearchParams();
      if (state.from) params.set("from", state.from);
      if (state.to) params.set("to", state.to);
      busy(1);
      try { active = new Set((await api(`/api/analyses/${analysisId}/network/active/?${params}`)).active); }
      catch { active = null; }
      finally { busy(-1); }
    }

    return async (changed) => {
      if (!net) {
        busy(1);
        try {
          net = await network(analysisId);
          panel.title.textContent = `${panelTitle(panel.id)} · ${net.nodes.length.toLocaleString()} ${net.noun}`;
          communities();
        } catch (error) {
          panel.body.replaceChildren(el("p", `Could not load the network: ${error.message}`, "error"));
          return;
        } finally { busy(-1); }
        changed = new Set(KEYS);
      }
      busy(1);
      try {
        const ranged = changed.has("from") || changed.has("to");
        if (ranged) await windowEdges();
        if (selectionChanged(changed) || ranged) { markCommunity(); await (gl ? drawGL(ranged) : draw()); }
      } finally { busy(-1); }
    };
  }

  // ---------------------------------------------------------------- embedding maps (t-SNE): lasso to select
  function mapPanel(panel, analysisId) {
    const plot = panel.body.querySelector('[data-testid="ws-map"]');
    const shown = panel.body.querySelector('[data-testid="ws-map-shown"]');
    let points = null;
    let wired = false;

    async function draw() {
      const chosen = await selectedAccounts();
      const keyOf = (p) => (points.unit === "account" ? p.id : p.account);
      // One trace per label (the legend names the colours); points outside the selection fade.
      const groups = new Map();
      points.points.forEach((p) => { const k = p.label ?? "unlabelled"; if (!groups.has(k)) groups.set(k, []); groups.get(k).push(p); });
      const traces = [...groups.keys()].sort().map((label, i) => {
        const list = groups.get(label);
        const colour = PALETTE[i % PALETTE.length];
        return { type: "scattergl", mode: "markers", name: label, x: list.map((p) => p.x), y: list.map((p) => p.y),
          customdata: list.map(keyOf), text: list.map((p) => `@${p.handle}<br>${label}`), hovertemplate: "%{text}<extra></extra>",
          marker: { size: 5, color: list.map((p) => (chosen && !chosen.has(keyOf(p)) ? FADED : colour)) } };
      });
      await window.Plotly.react(plot, traces, { height: 420, margin: { l: 5, r: 5, t: 5, b: 5 }, dragmode: "lasso",
        hovermode: "closest", showlegend: groups.size > 1, legend: { orientation: "h", y: -0.02 },
        xaxis: { visible: false }, yaxis: { visible: false, scaleanchor: "x" } }, PLOT_CONFIG);
      shown.textContent = `${points.points.length.toLocaleString()} ${points.unit}s · lasso points to select their accounts` +
        (chosen ? ` · ${points.points.filter((p) => chosen.has(keyOf(p))).length.toLocaleString()} in the selection` : "");
      if (!wired) {
        wired = true;
        plot.on("plotly_selected", (event) => {
          const picked = [...new Set((event?.points || []).map((p) => p.customdata))].slice(0, 5000);
          if (picked.length) update({ accounts: picked.join(","), community: null });
        });
      }
    }

    return async (changed) => {
      if (!points) {
        busy(1);
        try { points = await api(`/api/analyses/${analysisId}/points/`); }
        catch (error) { panel.body.replaceChildren(el("p", `Could not load the map: ${error.message}`, "error")); return; }
        finally { busy(-1); }
        changed = new Set(KEYS);
      }
      if (selectionChanged(changed)) { busy(1); try { await draw(); } finally { busy(-1); } }
    };
  }

  // ---------------------------------------------------------------- account and post panels
  function notesList(notes) {
    const ul = el("ul", undefined, "ws-notes");
    notes.forEach((n) => {
      const li = el("li"); const body = el("div", undefined, "note-body");
      body.innerHTML = n.html;  // sanitised on the server (apps.notes.rendering)
      li.append(el("div", `${n.author || "—"} · ${shortTime(n.updated_at)}`, "muted"), body); ul.append(li);
    });
    return ul;
  }

  function accountPanel(panel) {
    const box = panel.body.querySelector('[data-testid="ws-account"]');
    return (changed) => {
      if (!changed.has("account")) return;
      if (!state.account) { box.replaceChildren(el("p", "Click an account (a node, a table row's account) to see it here.", "empty")); return; }
      panel.load(`${API}/workspace/accounts/${Number(state.account)}/`, (a) => {
        const head = el("h3", `@${a.handle}`); head.dataset.testid = "ws-account-handle";
        const facts = el("p", `${a.display_name ? `${a.display_name} · ` : ""}${Number(a.posts).toLocaleString()} posts · ` +
          `${shortTime(a.first_post).slice(0, 10)} → ${shortTime(a.last_post).slice(0, 10)}` +
          `${a.followers !== null && a.followers !== undefined ? ` · ${Number(a.followers).toLocaleString()} followers` : ""}`, "muted");
        const actions = el("div", undefined, "ws-filters");
        actions.append(testid(button("Only this account's posts", () => update({ accounts: a.id, community: null })), "ws-account-only"),
          button("Add to selection", () => addAccount(a.id)));
        box.replaceChildren(head, facts, actions);
        const labels = el("p"); Object.entries(a.labels || {}).forEach(([k, v]) => labels.append(el("span", `${k}: ${v}`, "chip"), " "));
        if (labels.childNodes.length) box.append(labels);
        if (a.scores?.length) {
          const t = el("table", undefined, "table table-compact");
          t.innerHTML = "<thead><tr><th>Scores</th><th class='num'>mean</th><th class='num'>max</th><th class='num'>posts</th></tr></thead>";
          const tb = el("tbody"); a.scores.forEach((s) => { const r = el("tr"); r.append(el("td", `${s.title} #${s.analysis}`), el("td", fmt(s.mean), "num"), el("td", fmt(s.max), "num"), el("td", String(s.posts), "num")); tb.append(r); });
          t.append(tb); box.append(t);
        }
        if (a.communities?.length) {
          const p = el("p", "Communities: ");
          a.communities.forEach((c) => p.append(testid(button(`${c.title} #${c.analysis}: ${c.community} (${c.size})`,
            () => update({ community: `${c.analysis}:${c.community}`, accounts: null })), "ws-account-community"), " "));
          box.append(p);
        }
        (a.authorship || []).forEach((au) => {
          const line = testid(el("p", `${au.title}: ${au.outliers} of ${au.checked} own posts unlike the account` +
            ` (time-ordered test accuracy ${fmt(au.test_accuracy, 2)}) `), "ws-account-authorship");
          const link = el("a", "open"); link.href = au.url; line.append(link);
          box.append(line);
          au.least_like.forEach((p) => box.append(el("blockquote", `${fmt(p.probability, 2)} · ${p.text}`, "ws-post-text")));
        });
        if (a.hybrid) box.append(hybridBox(a.hybrid));
        if (a.tags?.length) { const p = el("p", "DISARM: "); a.tags.forEach((t) => p.append(el("span", `${t.technique} ${t.name}`, "chip"), " ")); box.append(p); }
        if (a.notes?.length) box.append(el("h4", "Notes"), notesList(a.notes));
      });
    };
  }

  // The hybrid score and why: each signal's contribution (coefficient × standardised value, log-odds), largest first,
  // as a bar left (against) or right (towards) of the intercept's line.
  function hybridBox(h) {
    const wrap = testid(el("div", undefined, "ws-hybrid"), "ws-account-hybrid");
    const head = el("p");
    const link = el("a", `Hybrid score #${h.analysis}`); link.href = `/analyses/${h.analysis}/`;
    head.append(link, `: ${fmt(h.probability, 3)} (log-odds ${fmt(h.logit, 2)} = intercept ${fmt(h.intercept, 2)} + signals; ${h.split} split)`);
    const t = el("table", undefined, "table table-compact");
    t.innerHTML = "<thead><tr><th>signal</th><th class='num'>value</th><th class='num'>contribution</th><th></th></tr></thead>";
    const tb = el("tbody");
    const widest = Math.max(1e-9, ...h.signals.map((s) => Math.abs(s.contribution)));
    h.signals.forEach((s) => {
      const r = testid(el("tr"), "ws-hybrid-signal");
      const bar = el("span", undefined, `ws-contrib ${s.contribution >= 0 ? "ws-contrib-up" : "ws-contrib-down"}`);
      bar.style.width = `${Math.round(50 * Math.abs(s.contribution) / widest)}%`;
      const cell = el("td", undefined, "ws-contrib-cell"); cell.append(bar);
      r.append(el("td", s.label), el("td", s.value === null ? "missing" : fmt(s.value, 3), "num"),
        el("td", `${s.contribution >= 0 ? "+" : ""}${fmt(s.contribution, 3)}`, "num"), cell);
      tb.append(r);
    });
    t.append(tb);
    wrap.append(head, t);
    return wrap;
  }

  function postPanel(panel) {
    const box = panel.body.querySelector('[data-testid="ws-post"]');
    return (changed) => {
      if (!changed.has("post")) return;
      if (!state.post) { box.replaceChildren(el("p", "Click a post in the table (or press j) to see it here.", "empty")); return; }
      panel.load(`${API}/workspace/posts/${Number(state.post)}/`, (p) => {
        const who = el("a", `@${p.account.handle}`); who.href = "#";
        who.addEventListener("click", (event) => { event.preventDefault(); update({ account: p.account.id }); });
        const meta = el("p", undefined, "muted"); meta.append(who, ` · ${shortTime(p.time)} UTC · ${p.kind}${p.language ? ` · ${p.language}` : ""}`);
        const text = testid(el("blockquote", p.text, "ws-post-text"), "ws-post-text");
        box.replaceChildren(meta, text);
        if (p.entities?.length) {
          const chips = el("p");
          p.entities.forEach((e) => chips.append(testid(button(`${e.kind}:${e.value}`, () => update({ entity: e.id, accounts: null, community: null }), "chip ws-entity"), "ws-entity"), " "));
          box.append(chips);
        }
        const labels = el("p"); Object.entries(p.labels || {}).forEach(([k, v]) => labels.append(el("span", `${k}: ${v}`, "chip"), " "));
        if (labels.childNodes.length) box.append(labels);
        (p.scores || []).forEach((s) => {
          const line = el("p", `${s.title} #${s.analysis}: ${fmt(s.score)} `);
          if (s.unreliable) line.append(unreliableBadge(), " ");
          if (s.attention_url) {
            const a = el("a", "the model's page on this post"); a.href = s.attention_url;
            // bertviz's head view of the post, on demand (the model is loaded to draw it), in a sandboxed frame as on
            // the model's post page: its require.js must not meet Plotly.
            const show = testid(button("Attention heatmap", () => {
              const frame = testid(el("iframe", undefined, "bertviz-frame bertviz-frame-tall"), "ws-attention");
              frame.setAttribute("sandbox", "allow-scripts");
              frame.title = "bertviz head view";
              frame.src = `${s.attention_url}bertviz/head/`;
              show.replaceWith(frame);
            }), "ws-attention-button");
            line.append(a, " ", show);
          }
          box.append(line);
        });
        if (p.notes?.length) box.append(el("h4", "Notes"), notesList(p.notes));
      });
    };
  }

  // ---------------------------------------------------------------- notes on the selection, with a DISARM tag
  /* What a new note describes: the focused post, else the selected community, else the focused account, else the case. */
  function noteTarget() {
    if (state.community) {
      const [analysis, community] = state.community.split(":").map(Number);
      return { type: "community", ref: { analysis, community }, label: `community ${community} of analysis #${analysis}` };
    }
    if (state.account) return { type: "account", ref: { account: Number(state.account) }, label: "the account in the account panel" };
    if (state.post) return { type: "post", ref: { post: Number(state.post) }, label: "the post in the post panel" };
    return { type: "investigation", ref: {}, label: "the investigation" };
  }

  function notesPanel(panel) {
    const form = panel.body.querySelector("form");
    const list = panel.body.querySelector('[data-testid="ws-notes"]');
    const error = panel.body.querySelector('[data-testid="ws-note-error"]');
    const targetLabel = panel.body.querySelector('[data-testid="ws-note-target"]');

    function load() {
      panel.load(`${API}/notes/`, (notes) => {
        list.replaceChildren(...notes.slice(0, 50).map((n) => {
          const li = testid(el("li"), "ws-note");
          const link = el("a", n.target_label); if (n.target_url) link.href = n.target_url;
          const head = el("div", undefined, "muted"); head.append(`${n.author || "—"} · ${shortTime(n.updated_at)} · on `, link);
          const body = el("div", undefined, "note-body"); body.innerHTML = n.html;  // sanitised on the server
          li.append(head, body); return li;
        }));
        if (!notes.length) list.append(el("li", "No notes yet.", "empty"));
      });
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      const target = noteTarget();
      const data = new FormData(form);
      busy(1);
      try {
        const note = await api(`${API}/notes/`, { method: "POST", body: { body: data.get("body"), target_type: target.type, ...target.ref } });
        const technique = String(data.get("technique") || "").trim();
        if (technique) {
          // The technique is evidenced by the community or account the note describes; otherwise by the note itself.
          const tagged = ["community", "account"].includes(target.type) ? { target_type: target.type, ...target.ref } : { target_type: "note", note: note.id };
          await api(`${API}/tags/`, { method: "POST", body: { technique, ...tagged, procedure: String(data.get("procedure") || ""),
            seen_on: state.from ? state.from.slice(0, 10) : null } });
        }
        form.reset();
        load();
      } catch (e) {
        error.textContent = e.message; error.hidden = false;
      } finally { busy(-1); }
    });

    return (changed) => {
      targetLabel.textContent = noteTarget().label;
      if (changed.size === KEYS.length) load();
    };
  }

  // ---------------------------------------------------------------- pins: save the view, reopen it
  function pinsPanel(panel) {
    const list = panel.body.querySelector('[data-testid="ws-pins"]');
    panel.reload = () => panel.load(`${API}/pins/`, (pins) => {
      list.replaceChildren(...pins.map((p) => {
        const li = testid(el("li", undefined, "ws-pin"), "ws-pin-item");
        const a = el("a"); a.href = p.url; a.dataset.testid = "ws-pin-open";
        if (p.thumbnail_url) { const img = el("img"); img.src = p.thumbnail_url; img.alt = ""; img.width = 120; a.append(img); }
        a.append(el("span", p.caption));
        li.append(a, el("div", `${p.created_by || "—"} · ${shortTime(p.created_at)}`, "muted"));
        return li;
      }));
      if (!pins.length) list.append(el("li", "No pins yet: “Pin this view” saves what you see.", "empty"));
    });
    return (changed) => { if (changed.size === KEYS.length) panel.reload(); };
  }

  /* A PNG of the first chart that renders (a WebGL network may not where the browser has no GPU: then the next). */
  async function thumbnail() {
    for (const plot of grid.querySelectorAll(".ws-panel .js-plotly-plot")) {
      try { return await window.Plotly.toImage(plot, { format: "png", width: 480, height: 300 }); }
      catch { /* try the next chart */ }
    }
    return undefined;
  }

  const pinForm = root.querySelector('[data-testid="ws-pin-form"]');
  function pinStart() {
    if (!config.can_edit) return;
    pinForm.hidden = false;
    pinForm.querySelector("input").focus();
  }
  pinForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const caption = pinForm.querySelector("input").value.trim();
    if (!caption) return;
    busy(1);
    try {
      await api(`${API}/pins/`, { method: "POST", body: { caption, state: query(), thumbnail: await thumbnail() } });
      pinForm.reset(); pinForm.hidden = true; showError("");
      panels.get("pins")?.reload();
    } catch (e) { showError(`The pin was not saved: ${e.message}`); }
    finally { busy(-1); }
  });

  // ---------------------------------------------------------------- buttons and keys
  const help = document.querySelector('[data-testid="ws-help"]');
  const toggleHelp = () => { help.hidden = !help.hidden; };
  document.addEventListener("click", (event) => {
    const action = event.target.closest("[data-action]")?.dataset.action;
    if (action === "help") toggleHelp();
    else if (action === "pin") pinStart();
    else if (action === "pin-cancel") pinForm.hidden = true;
    else if (action === "copy-link") navigator.clipboard?.writeText(window.location.href).catch(() => {});
  });

  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest?.("input, textarea, select, [contenteditable]");
    if (event.key === "Escape") { help.hidden = true; if (typing) event.target.blur(); return; }
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    const current = tableRows[activeRow];
    const keys = {
      "?": toggleHelp,
      "/": () => root.querySelector('[data-control="q"]')?.focus(),
      j: () => activate(activeRow + 1),
      k: () => activate(Math.max(0, activeRow - 1)),
      a: () => current && update({ account: current.account.id }),
      f: () => current && update({ accounts: current.account.id, community: null }),
      n: () => root.querySelector('[data-testid="ws-note-body"]')?.focus(),
      p: pinStart,
      x: clearSelection,
    };
    if (keys[event.key]) { event.preventDefault(); keys[event.key](); }
  });

  window.addEventListener("popstate", () => {
    const before = { ...state };
    state = defaults(readUrl());
    refresh(new Set(KEYS.filter((k) => before[k] !== state[k])));
  });

  // ---------------------------------------------------------------- start: the URL's view, else my last one
  async function start() {
    busy(1);
    try {
      let read = readUrl();
      if (!Object.keys(read).length) {
        const saved = await api(`${API}/workspace/layout/`).catch(() => null);
        if (saved?.state) read = Object.fromEntries([...new URLSearchParams(saved.state)].filter(([k]) => KEYS.includes(k)));
      }
      state = defaults(read);
      window.history.replaceState(null, "", address());
      refresh(new Set(KEYS));
    } finally { busy(-1); }
  }
  if (window.Plotly) start(); else window.addEventListener("load", start);
})();
