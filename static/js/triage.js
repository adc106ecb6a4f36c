/* Triage queue: one item at a time. Keys 1–9 label the item shown, s skips it, u undoes the analyst's
   latest decision, n opens a note on the post, ? shows the keys. The page brings the first item and the one
   after it (upcoming); a label or a skip draws the upcoming item at once, then sends the decision, whose answer
   carries the next item (checked against the one drawn: another analyst may have taken it meanwhile), the one
   after it and the progress. Keys pressed while a request is in flight wait their turn, in order, and each acts
   on the item shown when its turn comes; so decisions reach the server in the order pressed, and undo (which
   waits for its answer) undoes the latest.
   Retrain starts the queue's next round of active learning (a job): its progress is drawn live by
   job-progress.js (Murmuration.JobProgress); when it succeeds the rounds table is read again and the
   next item is the new model's most uncertain. An account queue (data-unit="account") shows one account at a
   time (its facts, communities and top posts), its keys label the account, and it has no retrain button. */
"use strict";

(() => {
  const root = document.getElementById("triage");
  if (!root) return;
  const values = JSON.parse(document.getElementById("triage-values").textContent);
  const canEdit = root.dataset.canEdit === "1";
  const accounts = root.dataset.unit === "account";
  const csrf = root.querySelector('input[name="csrfmiddlewaretoken"]').value;
  const help = document.getElementById("triage-help");
  const noteDialog = document.getElementById("triage-note");
  const noteForm = noteDialog.querySelector("form");
  const boxes = Object.fromEntries(
    ["item", "done", "account", "networks"].map((name) => [name, root.querySelector(`[data-testid="triage-${name}"]`)]),
  );
  const status = root.querySelector('[data-testid="triage-status"]');
  let current = null; // the item shown
  let upcoming; // the item after it, fetched ahead: undefined while unknown, null when there is none
  let progress = null; // the analyst's counts, as last drawn
  let turn = Promise.resolve(); // the last key's request

  const fields = (name) => root.querySelectorAll(`[data-f="${name}"]`);
  const text = (name, value) => fields(name).forEach((el) => { el.textContent = value ?? ""; });
  const link = (name, url) => fields(name).forEach((el) => {
    el.hidden = !url;
    if (url) el.href = url;
  });
  const when = (iso) => (iso ? iso.replace("T", " ").slice(0, 16) : "no time");

  function element(tag, content, className) {
    const el = document.createElement(tag);
    if (content !== undefined) el.textContent = content;
    if (className) el.className = className;
    return el;
  }

  function say(message, error = false) {
    status.textContent = message;
    status.classList.toggle("field-error", error);
  }

  function showAccountItem(account) {
    boxes.account.dataset.account = account.id;
    text("account-posts", account.posts);
    text("account-label", account.label ?? "—");
    const communities = fields("account-communities")[0];
    communities.replaceChildren(...account.communities.map((c) => {
      const li = element("li", `community ${c.community} (${c.size} accounts) in `);
      const a = element("a", c.title);
      a.href = `/analyses/${c.analysis}/`;
      li.append(a);
      return li;
    }));
    if (!account.communities.length) communities.replaceChildren(element("li", "In no stored network.", "muted"));
    const top = fields("account-top")[0];
    top.replaceChildren(...account.top_posts.map((post) => {
      const li = element("li");
      li.append(element("span", post.score.toFixed(3), "chip"), " ", element("span", when(post.time), "muted"), " ",
        element("span", post.text));
      return li;
    }));
    if (!account.top_posts.length) top.replaceChildren(element("li", "No scored posts.", "muted"));
  }

  function showAccount(account) {
    text("account-handle", account.handle);
    link("account-link", account.url);
    text("account-name", account.display_name);
    const labels = fields("account-labels")[0];
    labels.replaceChildren(...Object.entries(account.labels).map(([k, v]) => element("span", `${k}: ${v}`, "chip")));
    if (accounts) {
      showAccountItem(account);
      return;
    }
    const recent = fields("account-recent")[0];
    recent.replaceChildren(...account.recent.map((post) => {
      const li = element("li");
      li.append(element("span", when(post.time), "muted"), " ", element("span", post.text));
      return li;
    }));
    if (!account.recent.length) recent.replaceChildren(element("li", "No other posts.", "muted"));
  }

  function showNetworks(networks) {
    boxes.networks.hidden = !networks.length;
    fields("networks")[0].replaceChildren(...networks.map((network) => {
      const block = element("div");
      const title = element("a", network.title);
      title.href = network.url;
      const list = element("ul");
      list.append(...network.neighbours.map((n) => element("li", `${n.handle} (weight ${n.weight})`)));
      if (!network.neighbours.length) list.append(element("li", "no edges", "muted"));
      block.append(element("h3"), list);
      block.firstChild.append(title);
      return block;
    }));
  }

  const itemId = (item) => (item ? (accounts ? item.account.id : item.post.id) : null);

  // An answer from the server: the item to show, the one after it (when asked ahead) and the progress.
  function show(data) {
    upcoming = "upcoming" in data ? data.upcoming : undefined;
    draw(data.item, data.progress);
  }

  function showProgress(counts) {
    progress = counts;
    for (const name of ["done", "total", "labelled", "skipped"]) text(name, counts[name]);
  }

  function draw(item, counts) {
    current = item;
    showProgress(counts);
    root.dataset.state = item ? "item" : "done";
    boxes.item.hidden = accounts || !item;
    boxes.account.hidden = !item;
    boxes.done.hidden = Boolean(item);
    if (!item) {
      boxes.item.dataset.post = boxes.account.dataset.account = "";
      boxes.networks.hidden = true;
      root.dataset.drawn = performance.now();
      return;
    }
    if (accounts) {
      text("score", item.score.toFixed(3));
      showAccount(item.account);
      showNetworks(item.networks);
      root.dataset.drawn = performance.now();
      return;
    }
    const { post } = item;
    boxes.item.dataset.post = post.id;
    text("post-platform-id", post.platform_id);
    link("post-link", post.url);
    text("post-text", post.text || "(no text)");
    text("post-time", when(post.time));
    text("post-kind", post.kind);
    text("post-label", post.label ?? "—");
    text("score", item.score.toFixed(3));
    fields("unreliable").forEach((el) => { el.hidden = !item.unreliable; });
    link("attention", item.attention_url);
    showAccount(item.account);
    showNetworks(item.networks);
    root.dataset.drawn = performance.now(); // when this item was drawn (the triage bench reads it)
  }

  async function call(url, body) {
    const response = await fetch(url, {
      method: body === undefined ? "GET" : "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const detail = data.detail || Object.entries(data).map(([k, v]) => `${k}: ${[].concat(v).join(" ")}`).join("; ");
      throw new Error(detail || `The server answered ${response.status}.`);
    }
    return data;
  }

  // Run `action` after every earlier key's request, on the item shown then.
  function inTurn(action) {
    turn = turn.then(async () => {
      try {
        await action(current);
      } catch (error) {
        say(error.message, true);
      }
    });
  }

  const named = (item) => (accounts ? `account ${item.account.handle}` : `post ${item.post.platform_id}`);

  // Label or skip `item`: draw the item fetched ahead at once (with the progress it will have), then send the
  // decision. The answer's next item is normally the one drawn; when it is not (another analyst took that item
  // meanwhile, or it was decided in another tab), the answer's is drawn instead. A refused decision puts `item`
  // back.
  async function decide(item, body) {
    if (!item) return;
    const before = { progress, upcoming };
    const early = upcoming !== undefined;
    if (early) {
      const counts = { ...progress, done: progress.done + 1 };
      counts[body.skip ? "skipped" : "labelled"] += 1;
      upcoming = undefined;
      draw(before.upcoming, counts);
    }
    const target = accounts ? { account: item.account.id } : { post: item.post.id };
    let data;
    try {
      data = await call(root.dataset.decideUrl, { ...target, ...body, ahead: true });
    } catch (error) {
      if (early) {
        upcoming = before.upcoming;
        draw(item, before.progress);
      }
      throw error;
    }
    const done = body.skip ? `Skipped ${named(item)}` : `Labelled ${named(item)} ${body.value}`;
    if (early && itemId(data.item) === itemId(current)) {
      upcoming = data.upcoming;
      showProgress(data.progress);
      say(`${done}.`);
    } else {
      const taken = early && before.upcoming;
      say(taken ? `${done}; ${named(before.upcoming)} was decided meanwhile: showing the next.` : `${done}.`);
      show(data);
    }
  }

  async function undo() {
    const data = await call(root.dataset.undoUrl, { ahead: true });
    const undone = data.undone;
    const what = undone && (undone.account ? `account ${undone.account}` : `post ${undone.post}`);
    say(undone ? `Undid ${undone.skipped ? "the skip" : undone.value} on ${what}.` : "Nothing to undo.");
    show(data);
  }

  function openNote() {
    if (!current) return;
    text("note-post", accounts ? current.account.handle : current.post.platform_id);
    noteForm.dataset.target = accounts ? current.account.id : current.post.id;
    noteDialog.showModal();
    noteForm.elements.body.focus();
  }

  noteForm.addEventListener("submit", async (event) => {
    if (event.submitter?.value !== "save") return; // cancel: the dialog closes itself
    event.preventDefault();
    const body = noteForm.elements.body.value.trim();
    if (!body) return;
    try {
      const type = accounts ? "account" : "post";
      await call(root.dataset.notesUrl, { body, target_type: type, [type]: Number(noteForm.dataset.target) });
      noteForm.reset();
      noteDialog.close();
      say(`Note added to the ${type}.`);
    } catch (error) {
      say(error.message, true);
    }
  });

  function press(key) {
    if (key === "?") {
      if (help.open) help.close();
      else help.showModal();
      return true;
    }
    if (!canEdit) return false;
    const number = /^[1-9]$/.test(key) ? Number(key) : 0;
    if (number && number <= values.length) inTurn((item) => decide(item, { value: values[number - 1] }));
    else if (key === "s") inTurn((item) => decide(item, { skip: true }));
    else if (key === "u") inTurn(() => undo());
    else if (key === "n") openNote();
    else return false;
    return true;
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    if (noteDialog.open || event.target.closest?.("input, textarea, select, [contenteditable]")) return;
    if (help.open && event.key !== "?") return; // Esc closes it (the dialog's own)
    if (press(event.key)) event.preventDefault();
  });

  root.addEventListener("click", (event) => {
    const button = event.target.closest("[data-key]");
    if (button) press(button.dataset.key);
  });

  // Active learning ----------------------------------------------------------------------------------
  const roundsBox = root.querySelector('[data-testid="triage-rounds"]');
  const retrainButton = root.querySelector('[data-action="retrain"]'); // absent in an account queue
  const jobPanel = roundsBox.querySelector("[data-job-progress]");
  const FINISHED = new Set(["succeeded", "failed", "cancelled"]);
  const figure = (value) => (typeof value === "number" ? value.toFixed(3) : "—");

  function showRounds(rounds) {
    fields("rounds")[0].replaceChildren(...rounds.map((round) => {
      const tr = element("tr");
      tr.dataset.testid = "round-row";
      tr.dataset.round = round.number;
      const model = element("td");
      if (round.model !== null) {
        const a = element("a", `#${round.model}`);
        a.href = `/analyses/${round.analysis}/`;
        a.title = round.model_name || "";
        model.append(a);
      } else model.textContent = "—";
      const auc = element("td", figure(round.metrics.auc), "num");
      auc.dataset.testid = "round-auc";
      const labels = round.original_labels ? `${round.labels} + ${round.original_labels}` : String(round.labels);
      tr.append(element("td", String(round.number)), element("td", labels, "num"), model, auc,
        element("td", figure(round.metrics.f1), "num"), element("td", figure(round.metrics.previous?.auc), "num"));
      return tr;
    }));
  }

  async function refreshAfterRetrain() {
    const data = await call(root.dataset.roundsUrl);
    showRounds(data.rounds);
    const last = data.rounds[data.rounds.length - 1];
    say(`Round ${last.number} ready: held-out AUC ${figure(last.metrics.auc)}. The queue now follows its uncertainty.`);
    inTurn(async () => show(await call(`${root.dataset.nextUrl}?ahead=1`)));
  }

  function watch(state) {
    if (!window.Murmuration?.JobProgress) return;
    const job = new window.Murmuration.JobProgress(jobPanel, {
      jobId: state.id,
      onState: (next) => {
        if (!FINISHED.has(next.status)) return;
        if (retrainButton) retrainButton.disabled = false;
        if (next.status === "succeeded") refreshAfterRetrain().catch((error) => say(error.message, true));
        else say(`The retraining ${next.status}${next.error ? `: ${next.error}` : "."}`, true);
      },
    });
    if (FINISHED.has(state.status)) {
      jobPanel.hidden = false;
      job.render(state);
    } else job.start();
  }

  retrainButton?.addEventListener("click", async () => {
    retrainButton.disabled = true;
    try {
      const data = await call(root.dataset.retrainUrl, {});
      say("Retraining started: the queue keeps its order until the new round is ready.");
      watch(data.job);
    } catch (error) {
      retrainButton.disabled = false;
      say(error.message, true);
    }
  });

  // A retraining still running when the page loads (started here, elsewhere or by run_analysis) is watched too.
  call(root.dataset.roundsUrl).then((data) => {
    if (data.job && !FINISHED.has(data.job.status)) {
      if (retrainButton) retrainButton.disabled = true;
      watch(data.job);
    }
  }).catch(() => {});

  show(JSON.parse(document.getElementById("triage-first").textContent));
})();
