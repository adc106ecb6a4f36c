/*
 * The upload page: drop or choose files, preview the first one (format, columns, first rows and,
 * for generic CSV, a column mapping), then POST everything by XHR (so the upload shows progress)
 * and follow the import job live with job-progress.js.
 */
"use strict";

(() => {
  const form = document.getElementById("upload-form");
  if (!form) return;

  // The accepted extensions come from the server (UPLOAD_EXTENSIONS in apps/collections/services.py).
  const EXTENSIONS = (form.dataset.extensions || "").split(",").filter(Boolean);
  // Line-based files (gzipped or not) preview from their first bytes; zips and JSON documents need the whole file.
  const SLICEABLE = [".csv", ".tsv", ".jsonl", ".csv.gz", ".tsv.gz", ".jsonl.gz"];
  const PREVIEW_SLICE_BYTES = 512 * 1024;
  const PREVIEW_WHOLE_LIMIT_BYTES = 32 * 1024 * 1024;

  const part = (role) => document.querySelector(`[data-role="${role}"]`);
  const input = form.querySelector('input[type="file"][name="files"]');
  const collectionInput = form.querySelector("#id_collection");
  const formatSelect = form.querySelector("#id_format");
  const labelsInput = form.querySelector("#id_labels");
  const noHeaderInput = form.querySelector("#id_no_header");
  const csrfToken = form.querySelector('input[name="csrfmiddlewaretoken"]').value;
  const genericFormat = form.dataset.genericFormat || "";
  const mappingSelects = [...form.querySelectorAll("select[data-mapping-field]")];

  let files = [];
  let preview = null;
  let previewTicket = 0;
  let collectionTouched = collectionInput.value.trim() !== "";

  const lower = (name) => name.toLowerCase();
  const supported = (file) => EXTENSIONS.some((ext) => lower(file.name).endsWith(ext));

  function stem(name) {
    let out = name;
    for (let changed = true; changed; ) {
      changed = false;
      for (const ext of EXTENSIONS) {
        if (lower(out).endsWith(ext) && out.length > ext.length) {
          out = out.slice(0, -ext.length);
          changed = true;
        }
      }
    }
    return out;
  }

  function humanSize(bytes) {
    const units = ["B", "KB", "MB", "GB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
  }

  // ---- files ----------------------------------------------------------------------------------
  function addFiles(list) {
    const unsupported = [];
    for (const file of list) {
      if (!supported(file)) unsupported.push(file.name);
      else if (!files.some((f) => f.name === file.name && f.size === file.size)) files.push(file);
    }
    showErrors(unsupported.length ? { files: [`Not a supported file type: ${unsupported.join(", ")}`] } : null);
    filesChanged();
  }

  function filesChanged() {
    renderFiles();
    if (files.length && !collectionTouched) collectionInput.value = stem(files[0].name);
    if (files.length) requestPreview(files[0]);
    else hidePreview();
  }

  function renderFiles() {
    const list = part("file-list");
    list.replaceChildren();
    files.forEach((file, index) => {
      const li = document.createElement("li");
      const name = document.createElement("span");
      name.className = "file-name";
      name.textContent = file.name;
      const size = document.createElement("span");
      size.className = "muted";
      size.textContent = humanSize(file.size);
      const show = button("Preview", () => requestPreview(file));
      const remove = button("Remove", () => {
        files.splice(index, 1);
        filesChanged();
      });
      remove.classList.add("btn-danger-link");
      li.append(name, size, show, remove);
      list.append(li);
    });
  }

  function button(text, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-small btn-link";
    b.textContent = text;
    b.addEventListener("click", onClick);
    return b;
  }

  input.addEventListener("change", () => {
    addFiles(input.files);
    input.value = ""; // the page keeps its own list; choosing the same file again still fires "change"
  });
  collectionInput.addEventListener("input", () => {
    collectionTouched = collectionInput.value.trim() !== "";
  });

  const dropzone = part("dropzone");
  for (const type of ["dragenter", "dragover"]) {
    dropzone.addEventListener(type, (event) => {
      event.preventDefault();
      dropzone.classList.add("is-over");
    });
  }
  for (const type of ["dragleave", "drop"]) {
    dropzone.addEventListener(type, () => dropzone.classList.remove("is-over"));
  }
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    addFiles(event.dataTransfer.files);
  });

  // ---- preview --------------------------------------------------------------------------------
  async function requestPreview(file) {
    const ticket = ++previewTicket;
    const box = part("preview");
    box.hidden = false;
    part("preview-name").textContent = file.name;
    part("preview-status").textContent = "Reading…";
    part("preview-error").hidden = true;

    const sliceable = SLICEABLE.some((ext) => lower(file.name).endsWith(ext));
    let blob = file;
    if (sliceable && file.size > PREVIEW_SLICE_BYTES) blob = file.slice(0, PREVIEW_SLICE_BYTES);
    if (!sliceable && file.size > PREVIEW_WHOLE_LIMIT_BYTES) {
      preview = null;
      part("preview-status").textContent = "";
      part("preview-format").textContent = "This file is too large to preview; its format will be detected when it is imported.";
      part("preview-table").replaceChildren();
      updateMapping();
      return;
    }
    const data = new FormData();
    data.append("csrfmiddlewaretoken", csrfToken);
    data.append("file", blob, file.name);
    data.append("name", file.name);
    if (noHeaderInput.checked) data.append("no_header", "on"); // the columns come back as col1, col2, ...
    let result;
    try {
      const response = await fetch(form.dataset.previewUrl, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-Requested-With": "XMLHttpRequest", Accept: "application/json" },
      });
      result = response.headers.get("content-type")?.includes("json")
        ? await response.json()
        : { error: `The preview failed (HTTP ${response.status}).` };
    } catch (err) {
      result = { error: `The preview failed: ${err.message}` };
    }
    if (ticket !== previewTicket) return; // a newer preview was asked for meanwhile
    showPreview(result);
  }

  function showPreview(result) {
    preview = result;
    part("preview-status").textContent = "";
    const facts = [];
    if (result.format) facts.push(`Detected format: ${result.format_label || result.format}`);
    else if (!result.error) facts.push("No known format was recognised.");
    if (result.encoding) facts.push(`encoding ${result.encoding}`);
    if (result.delimiter) facts.push(`delimiter ${JSON.stringify(result.delimiter)}`);
    const formatLine = part("preview-format");
    formatLine.textContent = facts.join(" · ");
    formatLine.dataset.format = result.format || "";
    const error = part("preview-error");
    error.textContent = result.error || "";
    error.hidden = !result.error;
    renderPreviewTable(result.columns || [], result.rows || []);
    fillMappingSelects(result.columns || [], result.guessed_mapping || {});
    fillLabelColumns(result.columns || []);
    updateMapping();
  }

  function renderPreviewTable(columns, rows) {
    const table = part("preview-table");
    table.replaceChildren();
    if (!columns.length && !rows.length) return;
    const head = document.createElement("tr");
    for (const column of columns) head.append(textCell("th", column));
    table.createTHead().append(head);
    const body = table.createTBody();
    for (const row of rows) {
      const tr = document.createElement("tr");
      const values = Array.isArray(row) ? row : columns.map((c) => row[c]);
      for (const value of values) tr.append(textCell("td", value == null ? "" : typeof value === "object" ? JSON.stringify(value) : String(value)));
      body.append(tr);
    }
  }

  function textCell(tag, text) {
    const el = document.createElement(tag);
    el.textContent = text;
    el.title = text;
    return el;
  }

  function fillLabelColumns(columns) {
    const box = part("label-columns");
    box.replaceChildren();
    for (const column of columns) {
      const label = document.createElement("label");
      label.className = "check";
      const check = document.createElement("input");
      check.type = "checkbox";
      check.value = column;
      label.append(check, document.createTextNode(` ${column}`));
      box.append(label);
    }
  }

  function fillMappingSelects(columns, guessed) {
    for (const select of mappingSelects) {
      const previous = select.value;
      select.replaceChildren(new Option("— not mapped —", ""));
      for (const column of columns) select.append(new Option(column, column));
      const want = guessed[select.dataset.mappingField] || previous;
      if (columns.includes(want)) select.value = want;
    }
  }

  function mappingNeeded() {
    if (noHeaderInput.checked) return true;
    if (genericFormat && formatSelect.value === genericFormat) return true;
    return formatSelect.value === "" && preview !== null && !preview.format && (preview.columns || []).length > 0;
  }

  function updateMapping() {
    part("mapping").hidden = !mappingNeeded();
  }

  function mapping() {
    const out = {};
    for (const select of mappingSelects) if (select.value) out[select.dataset.mappingField] = select.value;
    for (const box of part("label-columns").querySelectorAll("input:checked")) out[`label:${box.value}`] = box.value;
    return out;
  }

  function mappingProblems(chosen) {
    // Only the text is needed: without time the posts have none; without account_id or handle each
    // post gets a placeholder author of its own (see apps/collections/importers/generic.py).
    return chosen.text ? null : ["Choose a column for text."];
  }

  function hidePreview() {
    preview = null;
    part("preview").hidden = true;
  }

  formatSelect.addEventListener("change", updateMapping);
  noHeaderInput.addEventListener("change", () => {
    if (files.length) requestPreview(files[0]);
    else updateMapping();
  });

  // ---- errors ---------------------------------------------------------------------------------
  const FIELD_NAMES = { files: "Files", collection: "Collection", format: "Format", mapping: "Mapping", labels: "Labels", __all__: "" };

  function showErrors(errors) {
    const box = part("errors");
    box.replaceChildren();
    box.hidden = !errors;
    if (!errors) return;
    for (const [field, messages] of Object.entries(errors)) {
      for (const message of [].concat(messages)) {
        const p = document.createElement("p");
        const label = FIELD_NAMES[field] ?? field;
        p.textContent = label ? `${label}: ${message}` : message;
        box.append(p);
      }
    }
  }

  // ---- upload ---------------------------------------------------------------------------------
  function setUploadProgress(fraction, text) {
    const wrap = part("upload-progress");
    wrap.hidden = false;
    const pct = Math.round(fraction * 100);
    const bar = wrap.querySelector('[role="progressbar"]');
    bar.setAttribute("aria-valuenow", String(pct));
    bar.querySelector(".progress-fill").style.width = `${pct}%`;
    bar.querySelector(".progress-text").textContent = `${pct}%`;
    part("upload-text").textContent = text;
  }

  function setBusy(busy) {
    const submit = part("submit");
    submit.disabled = busy;
    submit.textContent = busy ? "Uploading…" : "Start import";
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!files.length) {
      showErrors({ files: ["Choose at least one file."] });
      return;
    }
    showErrors(null);
    const data = new FormData();
    data.append("csrfmiddlewaretoken", csrfToken);
    for (const file of files) data.append("files", file, file.name);
    data.append("collection", collectionInput.value.trim());
    let format = formatSelect.value;
    if (mappingNeeded()) {
      const chosen = mapping();
      const problems = mappingProblems(chosen);
      if (problems) {
        showErrors({ mapping: problems });
        return;
      }
      data.append("mapping", JSON.stringify(chosen));
      if (!format) format = genericFormat;
    }
    data.append("format", format);
    data.append("labels", labelsInput.value);
    if (noHeaderInput.checked) data.append("no_header", "on");

    const total = files.reduce((sum, f) => sum + f.size, 0);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", window.location.pathname);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (ev) => {
      const size = ev.lengthComputable ? ev.total : total;
      setUploadProgress(size ? ev.loaded / size : 0, `Uploading ${humanSize(ev.loaded)} of ${humanSize(size)}…`);
    });
    xhr.addEventListener("load", () => uploaded(xhr));
    xhr.addEventListener("error", () => {
      setBusy(false);
      showErrors({ __all__: ["The upload failed: the server could not be reached."] });
    });
    setBusy(true);
    setUploadProgress(0, "Uploading…");
    xhr.send(data);
  });

  function uploaded(xhr) {
    const body = xhr.response || {};
    if (xhr.status === 201 && body.job_id) {
      setUploadProgress(1, `Uploaded ${files.length} file${files.length === 1 ? "" : "s"}; the import is running.`);
      part("submit").textContent = "Import started";
      form.querySelectorAll("input, select, textarea, button").forEach((el) => {
        el.disabled = true;
      });
      const card = part("job-card");
      card.hidden = false;
      const root = card.querySelector("[data-job-progress]");
      new window.Murmuration.JobProgress(root, { jobId: body.job_id }).start();
      card.scrollIntoView({ behavior: "smooth", block: "start" });
      return;
    }
    setBusy(false);
    part("upload-progress").hidden = true;
    if (xhr.status === 400 && body.errors) showErrors(body.errors);
    else if (xhr.status === 403) showErrors({ __all__: ["You need the editor role in this investigation to upload."] });
    else if (xhr.status === 413) showErrors({ __all__: ["The upload is too large for the server."] });
    else showErrors({ __all__: [`The upload failed (HTTP ${xhr.status}).`] });
  }
})();
