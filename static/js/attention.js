/* The post page's inline token heatmap (templates/analyses/post_attention.html): re-colour the tokens for
   the chosen layer and head (or their means) from json_script "attention-data" = {tokens, from_source},
   from_source[layer][head][token]. The server draws the mean of everything; this only switches views. */
"use strict";

(() => {
  const node = document.getElementById("attention-data");
  const heatmap = document.querySelector("[data-testid=token-heatmap]");
  if (!node || !heatmap) return;
  const data = JSON.parse(node.textContent);
  const layerSelect = document.querySelector("[data-attention=layer]");
  const headSelect = document.querySelector("[data-attention=head]");

  const mean = (rows) => rows[0].map((_, i) => rows.reduce((sum, row) => sum + row[i], 0) / rows.length);
  const pick = (values, chosen) => (chosen === "" ? values : [values[Number(chosen)]]);

  function weights() {
    const layers = pick(data.from_source, layerSelect.value);
    const rows = layers.map((heads) => mean(pick(heads, headSelect.value)));
    return mean(rows);
  }

  function draw() {
    const w = weights();
    const top = Math.max(...w) || 1;
    heatmap.querySelectorAll(".token").forEach((span, i) => {
      span.style.background = `rgba(214, 39, 40, ${(w[i] / top).toFixed(3)})`;
      span.title = w[i].toFixed(3);
    });
    heatmap.dataset.view = `${layerSelect.value || "mean"}:${headSelect.value || "mean"}`;
  }

  layerSelect.addEventListener("change", draw);
  headSelect.addEventListener("change", draw);
  draw(); // the selects may be restored by the browser on reload: draw what they show
})();
