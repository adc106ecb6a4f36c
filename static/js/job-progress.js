/*
 * A job's live progress: opens /ws/jobs/<id>/ (apps/jobs/consumers.py), which sends the job's state
 * (Job.as_state(): id, kind, status, progress 0..1, stage, error, result, cancel_requested,
 * started_at, finished_at) on connect and on every change, and draws it into a jobs/_progress.html
 * panel. The socket reconnects with backoff when it drops; the server render is the truth on reload.
 *
 * Every [data-job-progress][data-job-id] on the page starts by itself; upload.js starts one with
 * `new Murmuration.JobProgress(root, {jobId}).start()` once the import job exists.
 */
"use strict";

(() => {
  const FINISHED = new Set(["succeeded", "failed", "cancelled"]);
  const MAX_DELAY_MS = 30000;
  const numberFormat = new Intl.NumberFormat("en-US");

  class JobProgress {
    constructor(root, { jobId, onState } = {}) {
      this.root = root;
      this.jobId = Number(jobId ?? root.dataset.jobId);
      this.onState = onState;
      this.delay = 1000;
      this.socket = null;
      this.finished = false;
      // The status the server drew (a job that finishes before the socket's first message still reloads the page).
      this.firstStatus = root.dataset.jobId ? this.part("status")?.textContent.trim() || null : null;
      this.stopped = false;
    }

    part(role) {
      return this.root.querySelector(`[data-role="${role}"]`);
    }

    start() {
      this.root.dataset.jobId = String(this.jobId);
      this.root.hidden = false;
      const jobLink = this.part("job-link");
      if (jobLink && this.root.dataset.jobUrlTemplate) {
        jobLink.href = this.root.dataset.jobUrlTemplate.replace("999999999", String(this.jobId));
      }
      this.connect();
      return this;
    }

    stop() {
      this.stopped = true;
      this.socket?.close();
    }

    connect() {
      if (this.stopped) return;
      const scheme = window.location.protocol === "https:" ? "wss" : "ws";
      const socket = new WebSocket(`${scheme}://${window.location.host}/ws/jobs/${this.jobId}/`);
      this.socket = socket;
      socket.addEventListener("open", () => this.setLive("live"));
      socket.addEventListener("message", (event) => {
        this.delay = 1000;
        this.render(JSON.parse(event.data));
      });
      socket.addEventListener("close", () => {
        if (this.finished || this.stopped) {
          this.setLive("");
          return;
        }
        // Back off (1 s, 2 s, 4 s ... 30 s, with jitter) so a restarting server is not hammered.
        this.setLive("reconnecting");
        const wait = this.delay + Math.random() * 300;
        this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
        window.setTimeout(() => this.connect(), wait);
      });
    }

    setLive(mode) {
      const conn = this.part("conn");
      if (!conn) return;
      conn.dataset.mode = mode;
      conn.textContent = mode === "live" ? "live" : mode === "reconnecting" ? "reconnecting…" : "";
    }

    render(state) {
      if (this.firstStatus === null) this.firstStatus = state.status;
      const finished = FINISHED.has(state.status);
      const pct = state.status === "succeeded" ? 100 : Math.max(0, Math.min(100, Math.floor((state.progress || 0) * 100)));

      const status = this.part("status");
      status.textContent = state.status;
      status.className = `badge badge-${state.status}`;

      const bar = this.part("bar");
      bar.setAttribute("aria-valuenow", String(pct));
      const fill = bar.querySelector(".progress-fill");
      fill.style.width = `${pct}%`;
      fill.classList.toggle("is-done", state.status === "succeeded");
      fill.classList.toggle("is-failed", state.status === "failed");
      fill.classList.toggle("is-cancelled", state.status === "cancelled");
      fill.classList.toggle("is-running", state.status === "running");
      this.part("pct").textContent = `${pct}%`;

      let stage = state.stage || (state.status === "queued" ? "Waiting for a worker" : "");
      if (state.cancel_requested && !finished) stage = "Cancelling…";
      this.part("stage").textContent = stage;

      const error = this.part("error");
      error.textContent = state.error || "";
      error.hidden = !state.error;

      this.renderResult(state, finished);
      document.querySelectorAll('[data-role="cancel"]').forEach((el) => {
        el.hidden = finished || state.cancel_requested;
      });
      this.onState?.(state);

      if (finished) {
        this.finished = true;
        this.socket?.close();
        // A job page drawn while the job ran reloads once, so timings, files and buttons are the row's.
        if (this.root.hasAttribute("data-reload-on-finish") && !FINISHED.has(this.firstStatus)) {
          window.setTimeout(() => window.location.reload(), 800);
        }
      }
    }

    renderResult(state, finished) {
      const box = this.part("result");
      const link = this.part("collection-link");
      box.replaceChildren();
      const result = state.result || {};
      if (finished && state.status === "succeeded" && Object.keys(result).length) {
        if (state.kind === "import" && Array.isArray(result.files)) {
          box.append(importSummary(result));
        } else {
          const pre = document.createElement("pre");
          pre.className = "code";
          pre.textContent = JSON.stringify(result, null, 2);
          box.append(pre);
        }
      }
      const collectionId = result.collection_id;
      if (link) {
        link.hidden = !(state.status === "succeeded" && collectionId);
        if (collectionId) link.href = this.root.dataset.collectionUrlTemplate.replace("999999999", String(collectionId));
      }
    }
  }

  function cell(tag, text, className) {
    const el = document.createElement(tag);
    el.textContent = text;
    if (className) el.className = className;
    return el;
  }

  function importSummary(result) {
    const wrap = document.createElement("div");
    const n = (v) => numberFormat.format(v || 0);
    wrap.append(
      cell(
        "p",
        `Stored ${n(result.stored)} posts from ${n(result.rows_read)} rows read ` +
          `(${n(result.duplicates)} duplicates, ${n(result.rejected)} rejected) into “${result.collection}”.`,
        "result-line",
      ),
    );
    const table = document.createElement("table");
    table.className = "table table-compact";
    const head = document.createElement("tr");
    for (const h of ["File", "Format", "Rows read", "Stored", "Duplicates", "Rejected"]) head.append(cell("th", h, h === "File" || h === "Format" ? "" : "num"));
    table.createTHead().append(head);
    const body = table.createTBody();
    for (const f of result.files) {
      const row = document.createElement("tr");
      row.append(cell("td", f.file), cell("td", f.format || ""));
      for (const key of ["rows_read", "stored", "duplicates", "rejected"]) row.append(cell("td", n(f[key]), "num"));
      body.append(row);
    }
    wrap.append(table);
    return wrap;
  }

  window.Murmuration = { ...(window.Murmuration || {}), JobProgress };

  document.querySelectorAll("[data-job-progress][data-job-id]").forEach((root) => {
    const job = new JobProgress(root);
    job.start();
  });
})();
