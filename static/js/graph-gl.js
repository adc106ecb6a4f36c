/* graph-gl.js: a WebGL renderer for large networks (thousands of nodes, tens of thousands of edges), written for
 * Murmuration's network pages; no dependency, no build step (a plain script, served by Django's staticfiles).
 *
 * Why not Plotly: scattergl draws 50,000 edges as 150,000 line points and re-tessellates them on every zoom; in
 * headless Chromium (SwiftShader) the first paint took 5 s and a zoom 3.5 s. Here the edges are one vertex buffer
 * drawn with ONE gl.drawArrays(gl.LINES) call, the nodes one gl.POINTS call, and pan/zoom only change a uniform:
 * nothing is uploaded again until the edges, colours, sizes or selection change.
 *
 *   const graph = window.GraphGL.create(container, {
 *     positions,    // Float32Array [x0, y0, x1, y1, ...], world units (any range; fit() frames them)
 *     ids,          // node ids (any JSON scalars); events and setSelected speak these. Default: the indices
 *     edges,        // Uint32Array [source0, target0, source1, target1, ...] of node indices (optional)
 *     communities,  // Uint16Array | Uint32Array community number per node (optional; colours nodes by community)
 *     communityNone,// the number that means "no community" (default 0xFFFF, or 0xFFFFFFFF for a Uint32Array)
 *     label,        // (index) => hover text (optional; default: the id)
 *     colours, sizes, visible, edgeColours,   // as update() takes them (optional)
 *   });
 *   // null when the browser gives no WebGL: the container then says so (GraphGL.supported() asks beforehand).
 *
 *   graph.update({ edges?, edgeColours?, colours?, sizes?, visible? })   one upload of what changed:
 *                                     edges: Uint32Array of index pairs; edgeColours: Uint8Array RGBA per edge
 *                                     (default: the nodes' colour within a colour, grey between); colours: RGBA
 *                                     per node (default: by community); sizes: diameter in CSS px per node
 *                                     (Float32Array; default: by degree); visible: 0/1 per node (Uint8Array)
 *   graph.setEdges(pairs, colours?), graph.setNodes({ colours?, sizes?, visible? })   the same, in parts
 *   graph.setSelected(ids)            highlight these nodes and their edges, dim the rest; [] or null clears
 *   graph.selected()                  the highlighted ids
 *   graph.communityMembers(c)         the ids of community c's nodes
 *   graph.fit()                       frame every visible node
 *   graph.zoomAt(factor, clientX?, clientY?), graph.panBy(dx, dy)   (CSS px; what the wheel and a drag do)
 *   graph.screenOf(id)                {x, y} in client coordinates, or null (a hidden or unknown node)
 *   graph.render()                    draw now (otherwise every change draws on the next animation frame)
 *   graph.stats                       {frames, lastFrameMs, uploads (buffers sent to the GPU: pan and zoom send
 *                                     none), edges, nodes, renderer (the GL renderer string)}
 *   graph.destroy()
 *
 * GraphGL.load(url) fetches and GraphGL.decode(arrayBuffer) reads the binary network payload of
 * /api/analyses/<id>/network/binary/ (ml/graphs/binary.py): { header: { ids, names, nodes, edges, ... },
 * arrays: { positions, edges, weights, communities, q?, significant? } }, ready for create().
 *
 * Events, dispatched on the container (they bubble), for the page and the workspace's shared selection:
 *   "graph:select"  detail { type: "node", id, index, community, ids: [id] }    a click on a node
 *                   detail { type: "community", community, ids: [...members] }   a shift- or alt-click on a node
 *                   detail { type: "none", ids: [] }                             a click on empty space
 *   "graph:hover"   detail { id, index } or { id: null }
 *   "graph:drawn"   detail { ms } once, after the first frame is on screen; the container then carries
 *                   data-drawn="1" and data-drawn-ms (ms since navigation), which tests and benches wait for.
 * The container keeps its renderer as container.graphGL (for tests and benches).
 * The renderer does not select anything on a click by itself: the page decides (network.js calls setSelected).
 * Interaction: drag pans, the wheel zooms about the pointer, double-click fits, hover names a node.
 */
"use strict";

(() => {
  const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777", "#4b5563",
    "#65a30d"];
  const NONE_COLOUR = [148, 163, 184, 255];
  const CLICK_SLOP = 4;       // px a press may move and still be a click
  const PICK_MARGIN = 3;      // px around a node's disc that still hits it

  const POINT_VS = `
    attribute vec2 a_pos; attribute vec4 a_colour; attribute float a_size; attribute float a_flag;
    uniform vec4 u_view; uniform float u_dpr;
    varying vec4 v_colour; varying float v_flag;
    void main() {
      gl_Position = a_size > 0.0 ? vec4(a_pos * u_view.xy + u_view.zw, 0.0, 1.0) : vec4(2.0, 2.0, 2.0, 1.0);
      gl_PointSize = a_size * u_dpr * (a_flag > 0.5 ? 1.25 : 1.0);
      v_colour = a_colour; v_flag = a_flag;
    }`;
  const POINT_FS = `
    precision mediump float;
    varying vec4 v_colour; varying float v_flag; uniform float u_dim;
    void main() {
      vec2 p = gl_PointCoord * 2.0 - 1.0;
      float r = dot(p, p);
      if (r > 1.0) discard;
      vec3 c = v_colour.rgb;
      if (u_dim > 0.5 && v_flag < 0.5) c = mix(c, vec3(0.9), 0.75);
      if (r > 0.7) c = v_flag > 0.5 ? vec3(0.07) : vec3(1.0);
      gl_FragColor = vec4(c, 1.0);
    }`;
  const LINE_VS = `
    attribute vec2 a_pos; attribute vec4 a_colour;
    uniform vec4 u_view;
    varying vec4 v_colour;
    void main() { gl_Position = vec4(a_pos * u_view.xy + u_view.zw, 0.0, 1.0); v_colour = a_colour; }`;
  const LINE_FS = `
    precision mediump float;
    varying vec4 v_colour;
    void main() { gl_FragColor = vec4(v_colour.rgb * v_colour.a, v_colour.a); }`;

  const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

  function context(canvas, antialias = true) {
    const options = { antialias, alpha: false, premultipliedAlpha: true, preserveDrawingBuffer: false };
    return canvas.getContext("webgl2", options) || canvas.getContext("webgl", options);
  }

  /** A GPU's multisampling is free; a software rasteriser's (SwiftShader: headless Chromium, a browser without a
   * GPU) costs about 4x per frame with 50,000 edges, so there the canvas is drawn without it. */
  function canvasWithContext() {
    const make = () => {
      const canvas = document.createElement("canvas");
      canvas.className = "graph-gl-canvas";
      canvas.dataset.testid = "graph-gl-canvas";
      Object.assign(canvas.style, { display: "block", touchAction: "none", cursor: "grab" });
      return canvas;
    };
    let canvas = make(), gl = context(canvas);
    if (gl && /swiftshader|llvmpipe|software/i.test(rendererName(gl))) {
      gl.getExtension("WEBGL_lose_context")?.loseContext();
      canvas = make();
      gl = context(canvas, false);
    }
    return [canvas, gl];
  }

  function supported() {
    try { return Boolean(window.WebGLRenderingContext && context(document.createElement("canvas"))); } catch { return false; }
  }

  function program(gl, vs, fs) {
    const compile = (type, source) => {
      const shader = gl.createShader(type);
      gl.shaderSource(shader, source);
      gl.compileShader(shader);
      if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(shader));
      return shader;
    };
    const p = gl.createProgram();
    gl.attachShader(p, compile(gl.VERTEX_SHADER, vs));
    gl.attachShader(p, compile(gl.FRAGMENT_SHADER, fs));
    gl.linkProgram(p);
    if (!gl.getProgramParameter(p, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(p));
    const where = (name) => (name.startsWith("a_") ? gl.getAttribLocation(p, name) : gl.getUniformLocation(p, name));
    return { p, where };
  }

  function noWebGL(container) {
    const message = document.createElement("p");
    message.className = "error graph-gl-missing";
    message.dataset.testid = "graph-gl-missing";
    message.textContent = "This network is drawn with WebGL, which this browser has turned off or does not offer. " +
      "Turn on hardware acceleration (or use another browser), or download the network (GEXF, GraphML, CSV) above.";
    container.replaceChildren(message);
    container.dataset.drawn = "no-webgl";
  }

  /** A uniform grid over the nodes' positions: the nodes near a point in O(1) for hover and click. */
  class Grid {
    constructor(positions, visible) {
      const n = positions.length / 2;
      let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      for (let i = 0; i < n; i++) {
        if (!visible[i]) continue;
        const x = positions[2 * i], y = positions[2 * i + 1];
        if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
      }
      if (!(x1 >= x0)) { x0 = y0 = 0; x1 = y1 = 1; }
      const side = Math.max(1, Math.ceil(Math.sqrt(n)));
      this.x0 = x0; this.y0 = y0; this.side = side;
      this.cell = Math.max((x1 - x0) / side, (y1 - y0) / side, 1e-9);
      const cellOf = new Int32Array(n).fill(-1), counts = new Uint32Array(side * side + 1);
      for (let i = 0; i < n; i++) {
        if (!visible[i]) continue;
        cellOf[i] = this.key(positions[2 * i], positions[2 * i + 1]);
        counts[cellOf[i] + 1]++;
      }
      for (let c = 1; c < counts.length; c++) counts[c] += counts[c - 1];
      this.start = counts.slice();
      this.items = new Uint32Array(counts[counts.length - 1]);
      for (let i = 0; i < n; i++) if (cellOf[i] >= 0) this.items[counts[cellOf[i]]++] = i;
    }

    clamp(v) { return Math.min(this.side - 1, Math.max(0, v)); }

    key(x, y) {
      return this.clamp(Math.floor((y - this.y0) / this.cell)) * this.side + this.clamp(Math.floor((x - this.x0) / this.cell));
    }

    /** Calls visit(i) for every node in the cells that overlap the square of half-side r about (x, y). */
    near(x, y, r, visit) {
      const cx0 = this.clamp(Math.floor((x - r - this.x0) / this.cell)), cx1 = this.clamp(Math.floor((x + r - this.x0) / this.cell));
      const cy0 = this.clamp(Math.floor((y - r - this.y0) / this.cell)), cy1 = this.clamp(Math.floor((y + r - this.y0) / this.cell));
      for (let cy = cy0; cy <= cy1; cy++) {
        for (let cx = cx0; cx <= cx1; cx++) {
          const c = cy * this.side + cx;
          for (let k = this.start[c]; k < this.start[c + 1]; k++) visit(this.items[k]);
        }
      }
    }
  }

  class Graph {
    constructor(container, canvas, gl, options) {
      this.container = container;
      this.canvas = canvas;
      this.gl = gl;
      this.positions = options.positions;
      this.n = this.positions.length / 2;
      this.ids = options.ids || Array.from({ length: this.n }, (_, i) => i);
      this.index = new Map(this.ids.map((id, i) => [id, i]));
      this.communities = options.communities || null;
      this.communityNone = options.communityNone ?? (this.communities instanceof Uint32Array ? 0xFFFFFFFF : 0xFFFF);
      this.label = options.label || ((i) => String(this.ids[i]));
      this.view = { cx: 0, cy: 0, k: 1 };
      this.flags = new Float32Array(this.n);
      this.visible = new Uint8Array(this.n).fill(1);
      this.chosen = new Set();
      this.hovered = -1;
      this.stats = { frames: 0, lastFrameMs: 0, uploads: 0, edges: 0, nodes: this.n, renderer: rendererName(gl) };
      this.pending = false;
      this.setUp(gl);
      this.update({ edges: options.edges || new Uint32Array(0), edgeColours: options.edgeColours || null,
        colours: options.colours, sizes: options.sizes || null, visible: options.visible });
      this.listen();
      this.resize();
      this.fit();
      this.observer = new ResizeObserver(() => { this.resize(); this.request(); });
      this.observer.observe(container);
      this.render();
      this.markDrawn();
    }

    setUp(gl) {
      this.points = program(gl, POINT_VS, POINT_FS);
      this.lines = program(gl, LINE_VS, LINE_FS);
      this.buffers = Object.fromEntries(["nodePos", "nodeColour", "nodeSize", "nodeFlag", "edgePos", "edgeColour"]
        .map((k) => [k, gl.createBuffer()]));
      this.upload("nodePos", this.positions);
      this.upload("nodeFlag", this.flags);
      gl.enable(gl.BLEND);
      gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);  // the line shader premultiplies
      gl.clearColor(1, 1, 1, 1);
    }

    upload(name, data) {
      const gl = this.gl;
      gl.bindBuffer(gl.ARRAY_BUFFER, this.buffers[name]);
      gl.bufferData(gl.ARRAY_BUFFER, data, gl.STATIC_DRAW);
      this.stats.uploads++;
    }

    // ------------------------------------------------------------------ data
    setEdges(pairs, colours) { this.update({ edges: pairs, edgeColours: colours || null }); }

    setNodes({ colours, sizes, visible } = {}) { this.update({ colours, sizes, visible }); }

    /** One upload of whatever changed: edges (index pairs) and their colours, node colours, sizes, visibility. */
    update({ edges, edgeColours, colours, sizes, visible } = {}) {
      if (edges) {
        this.pairs = edges;
        const m = edges.length / 2, pos = new Float32Array(m * 4), p = this.positions;
        for (let e = 0; e < m; e++) {
          const s = edges[2 * e], t = edges[2 * e + 1];
          pos[4 * e] = p[2 * s]; pos[4 * e + 1] = p[2 * s + 1]; pos[4 * e + 2] = p[2 * t]; pos[4 * e + 3] = p[2 * t + 1];
        }
        this.upload("edgePos", pos);
        this.degree = new Float32Array(this.n);
        for (let k = 0; k < edges.length; k++) this.degree[edges[k]]++;
        this.stats.edges = m;
      }
      if (edgeColours !== undefined) this.edgeColours = edgeColours;
      if (sizes !== undefined) this.givenSizes = sizes;
      if (visible) this.visible = visible;
      this.nodeColours = colours || this.nodeColours || this.communityColours();
      this.sizes = this.givenSizes || this.degreeSizes();
      const shown = new Float32Array(this.n);
      for (let i = 0; i < this.n; i++) shown[i] = this.visible[i] ? this.sizes[i] : 0;
      this.largest = shown.reduce((a, b) => Math.max(a, b), 0);
      this.upload("nodeColour", this.nodeColours);
      this.upload("nodeSize", shown);
      if (visible || !this.grid) this.grid = new Grid(this.positions, this.visible);
      this.colourEdges();
      this.request();
    }

    communityColours() {
      const out = new Uint8Array(this.n * 4);
      const table = PALETTE.map(rgb);
      for (let i = 0; i < this.n; i++) {
        const c = this.communities ? this.communities[i] : 0;
        const colour = c === this.communityNone ? NONE_COLOUR : [...table[c % table.length], 255];
        out.set(colour, 4 * i);
      }
      return out;
    }

    degreeSizes() {
      let most = 1;
      for (let i = 0; i < this.n; i++) most = Math.max(most, this.degree[i]);
      return this.degree.map((d) => 3 + 11 * Math.sqrt(d / most));
    }

    /** Edge colours: as given, else the source's colour where both ends share it and grey between; faint, and
     * fainter still away from a selection. */
    colourEdges() {
      const m = this.pairs.length / 2, out = new Uint8Array(m * 8), c = this.nodeColours, any = this.chosen.size > 0;
      for (let e = 0; e < m; e++) {
        const s = this.pairs[2 * e], t = this.pairs[2 * e + 1];
        let r, g, b;
        if (this.edgeColours) { r = this.edgeColours[4 * e]; g = this.edgeColours[4 * e + 1]; b = this.edgeColours[4 * e + 2]; }
        else if (c[4 * s] === c[4 * t] && c[4 * s + 1] === c[4 * t + 1] && c[4 * s + 2] === c[4 * t + 2]) { r = c[4 * s]; g = c[4 * s + 1]; b = c[4 * s + 2]; }
        else { r = 100; g = 116; b = 139; }
        const touches = any && (this.flags[s] > 0.5 || this.flags[t] > 0.5);
        const alpha = !this.visible[s] || !this.visible[t] ? 0 : touches ? 220 : any ? 12 : 70;
        out.set([r, g, b, alpha, r, g, b, alpha], 8 * e);
      }
      this.upload("edgeColour", out);
    }

    setSelected(ids) {
      this.chosen = new Set((ids || []).filter((id) => this.index.has(id)));
      this.flags.fill(0);
      this.chosen.forEach((id) => { this.flags[this.index.get(id)] = 1; });
      this.upload("nodeFlag", this.flags);
      this.colourEdges();
      this.request();
    }

    selected() { return [...this.chosen]; }

    communityMembers(community) {
      if (!this.communities) return [];
      const out = [];
      for (let i = 0; i < this.n; i++) if (this.communities[i] === community && this.visible[i]) out.push(this.ids[i]);
      return out;
    }

    // ------------------------------------------------------------------ view
    resize() {
      const dpr = window.devicePixelRatio || 1;
      const w = Math.max(1, this.container.clientWidth), h = Math.max(1, this.container.clientHeight);
      this.width = w; this.height = h;
      this.canvas.width = Math.round(w * dpr); this.canvas.height = Math.round(h * dpr);
      this.canvas.style.width = `${w}px`; this.canvas.style.height = `${h}px`;
    }

    fit() {
      let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      for (let i = 0; i < this.n; i++) {
        if (!this.visible[i]) continue;
        const x = this.positions[2 * i], y = this.positions[2 * i + 1];
        x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
      if (!(x1 >= x0)) { x0 = y0 = -1; x1 = y1 = 1; }
      const pad = 24;
      this.view = { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2,
        k: Math.min((this.width - 2 * pad) / Math.max(x1 - x0, 1e-9), (this.height - 2 * pad) / Math.max(y1 - y0, 1e-9)) };
      this.request();
    }

    toWorld(clientX, clientY) {
      const r = this.canvas.getBoundingClientRect();
      return [this.view.cx + (clientX - r.left - this.width / 2) / this.view.k, this.view.cy - (clientY - r.top - this.height / 2) / this.view.k];
    }

    screenOf(id) {
      const i = this.index.get(id);
      if (i === undefined || !this.visible[i]) return null;
      const r = this.canvas.getBoundingClientRect();
      return { x: r.left + this.width / 2 + (this.positions[2 * i] - this.view.cx) * this.view.k,
        y: r.top + this.height / 2 - (this.positions[2 * i + 1] - this.view.cy) * this.view.k };
    }

    zoomAt(factor, clientX, clientY) {
      const r = this.canvas.getBoundingClientRect();
      const x = clientX ?? r.left + this.width / 2, y = clientY ?? r.top + this.height / 2;
      const [wx, wy] = this.toWorld(x, y);
      this.view.k = Math.min(Math.max(this.view.k * factor, 1e-6), 1e9);
      // keep the world point under the pointer where it was
      this.view.cx = wx - (x - r.left - this.width / 2) / this.view.k;
      this.view.cy = wy + (y - r.top - this.height / 2) / this.view.k;
      this.request();
    }

    panBy(dx, dy) {
      this.view.cx -= dx / this.view.k;
      this.view.cy += dy / this.view.k;
      this.request();
    }

    // ------------------------------------------------------------------ drawing
    request() {
      if (this.pending || !this.gl) return;
      this.pending = true;
      requestAnimationFrame(() => { this.pending = false; this.render(); });
    }

    render() {
      const gl = this.gl;
      if (!gl) return;
      const started = performance.now();
      const sx = (2 * this.view.k) / this.width, sy = (2 * this.view.k) / this.height;
      const view = [sx, sy, -this.view.cx * sx, -this.view.cy * sy];
      gl.viewport(0, 0, this.canvas.width, this.canvas.height);
      gl.clear(gl.COLOR_BUFFER_BIT);
      this.draw(this.lines, { a_pos: ["edgePos", 2, gl.FLOAT, false], a_colour: ["edgeColour", 4, gl.UNSIGNED_BYTE, true] }, view);
      gl.drawArrays(gl.LINES, 0, this.pairs.length);  // every edge: one draw call
      this.draw(this.points, { a_pos: ["nodePos", 2, gl.FLOAT, false], a_colour: ["nodeColour", 4, gl.UNSIGNED_BYTE, true],
        a_size: ["nodeSize", 1, gl.FLOAT, false], a_flag: ["nodeFlag", 1, gl.FLOAT, false] }, view);
      gl.uniform1f(this.points.where("u_dpr"), window.devicePixelRatio || 1);
      gl.uniform1f(this.points.where("u_dim"), this.chosen.size ? 1 : 0);
      gl.drawArrays(gl.POINTS, 0, this.n);
      this.stats.frames++;
      this.stats.lastFrameMs = performance.now() - started;
    }

    draw(prog, attributes, view) {
      const gl = this.gl;
      gl.useProgram(prog.p);
      gl.uniform4fv(prog.where("u_view"), view);
      Object.entries(attributes).forEach(([name, [buffer, size, type, normalised]]) => {
        const at = prog.where(name);
        if (at < 0) return;
        gl.bindBuffer(gl.ARRAY_BUFFER, this.buffers[buffer]);
        gl.enableVertexAttribArray(at);
        gl.vertexAttribPointer(at, size, type, normalised, 0, 0);
      });
    }

    markDrawn() {
      requestAnimationFrame(() => requestAnimationFrame(() => {
        const ms = performance.now();
        this.container.dataset.drawn = "1";
        this.container.dataset.drawnMs = String(Math.round(ms));
        this.container.dispatchEvent(new CustomEvent("graph:drawn", { bubbles: true, detail: { ms } }));
      }));
    }

    // ------------------------------------------------------------------ interaction
    pick(clientX, clientY) {
      const [wx, wy] = this.toWorld(clientX, clientY);
      let best = -1, bestDistance = Infinity;
      this.grid.near(wx, wy, (this.largest / 2 + PICK_MARGIN) / this.view.k, (i) => {
        const dx = (this.positions[2 * i] - wx) * this.view.k, dy = (this.positions[2 * i + 1] - wy) * this.view.k;
        const d = Math.hypot(dx, dy);
        if (d <= this.sizes[i] / 2 + PICK_MARGIN && d <= bestDistance) { best = i; bestDistance = d; }
      });
      return best;
    }

    emit(type, detail) { this.container.dispatchEvent(new CustomEvent(type, { bubbles: true, detail })); }

    click(event) {
      const i = this.pick(event.clientX, event.clientY);
      if (i < 0) { this.emit("graph:select", { type: "none", ids: [] }); return; }
      const community = this.communities ? this.communities[i] : null;
      if ((event.shiftKey || event.altKey) && community !== null) {
        this.emit("graph:select", { type: "community", community, ids: this.communityMembers(community) });
      } else {
        this.emit("graph:select", { type: "node", id: this.ids[i], index: i, community, ids: [this.ids[i]] });
      }
    }

    hover(event) {
      const i = this.pick(event.clientX, event.clientY);
      if (i === this.hovered) { if (i >= 0) this.placeTip(event); return; }
      this.hovered = i;
      this.canvas.style.cursor = i >= 0 ? "pointer" : "grab";
      if (i < 0) { this.tip.hidden = true; this.emit("graph:hover", { id: null }); return; }
      this.tip.textContent = this.label(i);
      this.tip.hidden = false;
      this.placeTip(event);
      this.emit("graph:hover", { id: this.ids[i], index: i });
    }

    placeTip(event) {
      const r = this.container.getBoundingClientRect();
      this.tip.style.left = `${event.clientX - r.left + 12}px`;
      this.tip.style.top = `${event.clientY - r.top + 12}px`;
    }

    listen() {
      const c = this.canvas;
      this.tip = document.createElement("div");
      this.tip.className = "graph-gl-tip";
      this.tip.dataset.testid = "graph-gl-tip";
      this.tip.hidden = true;
      Object.assign(this.tip.style, { position: "absolute", pointerEvents: "none", background: "rgba(15,23,42,.9)",
        color: "#fff", padding: "2px 6px", borderRadius: "4px", font: "12px system-ui, sans-serif", whiteSpace: "pre" });
      this.container.append(this.tip);
      let press = null;
      c.addEventListener("pointerdown", (e) => { press = { x: e.clientX, y: e.clientY, lastX: e.clientX, lastY: e.clientY, moved: false };
        c.setPointerCapture(e.pointerId); });
      c.addEventListener("pointermove", (e) => {
        if (!press) { this.hover(e); return; }
        if (Math.hypot(e.clientX - press.x, e.clientY - press.y) > CLICK_SLOP) press.moved = true;
        if (press.moved) { this.panBy(e.clientX - press.lastX, e.clientY - press.lastY); this.tip.hidden = true; }
        press.lastX = e.clientX; press.lastY = e.clientY;
      });
      c.addEventListener("pointerup", (e) => { const p = press; press = null; if (p && !p.moved) this.click(e); });
      c.addEventListener("pointercancel", () => { press = null; });
      c.addEventListener("pointerleave", () => { if (!press) { this.hovered = -1; this.tip.hidden = true; } });
      c.addEventListener("wheel", (e) => {
        e.preventDefault();
        const lines = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1;
        this.zoomAt(Math.exp(-e.deltaY * lines * 0.0015), e.clientX, e.clientY);
      }, { passive: false });
      c.addEventListener("dblclick", () => this.fit());
      c.addEventListener("webglcontextlost", (e) => { e.preventDefault(); this.gl = null; noWebGL(this.container); });
    }

    destroy() {
      this.observer.disconnect();
      const lose = this.gl && this.gl.getExtension("WEBGL_lose_context");
      if (lose) lose.loseContext();
      this.gl = null;
      this.container.replaceChildren();
    }
  }

  function rendererName(gl) {
    const info = gl.getExtension("WEBGL_debug_renderer_info");
    return String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  }

  function create(container, options) {
    const [canvas, gl] = canvasWithContext();
    if (!gl) {
      noWebGL(container);
      return null;
    }
    if (getComputedStyle(container).position === "static") container.style.position = "relative";
    container.replaceChildren(canvas);
    container.graphGL = new Graph(container, canvas, gl, options);
    return container.graphGL;
  }

  const TYPES = { float32: Float32Array, uint32: Uint32Array, uint16: Uint16Array, uint8: Uint8Array };

  /** The network payload of /api/analyses/<id>/network/binary/ (layout: ml/graphs/binary.py) as
   * { header, arrays }: each array a typed view on the buffer, nothing copied. */
  function decode(buffer) {
    const view = new DataView(buffer);
    const magic = String.fromCharCode(...new Uint8Array(buffer, 0, 4));
    if (magic !== "MNET" || view.getUint32(4, true) !== 1) throw new Error("not a version-1 network payload");
    const length = view.getUint32(8, true);
    const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 12, length)));
    const arrays = {};
    Object.entries(header.arrays).forEach(([name, spec]) => {
      arrays[name] = new TYPES[spec.dtype](buffer, 12 + length + spec.offset, spec.length);
    });
    return { header, arrays };
  }

  async function load(url) {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`the network could not be loaded (${response.status})`);
    return decode(await response.arrayBuffer());
  }

  window.GraphGL = { create, supported, decode, load, PALETTE };
})();
