"""Exact fast scoring: a text classifier exported to ONNX and run by ONNX Runtime (CPU), trusted only where it
matches torch fp32 (docs/benchmarks.md §scoring).

1. **Export**, once per weights: the graph takes the tokenizer's ids and the 2-D padding mask and builds the 4-D
   additive attention mask itself, with tensor operations only (a causal one for GPT-2). transformers passes a 4-D
   mask through untouched; its own mask code is Python that `torch.onnx.export(dynamo=False)` would freeze at the
   example's shapes (scores off by up to 0.58 on other batch shapes, measured). The graph gives the logit and the
   vector the out-of-distribution check reads (mean of the last hidden states, or GPT-2's `[CLS]` state).
2. **Difference check**, right after the export: probe posts (random token sequences of the model's own vocabulary,
   one token to past the model's max length) plus up to `SAMPLE` of the caller's posts, scored by torch fp32 (as
   ``mode="fp32"`` does) and by the graph in three batch shapes: length-sorted batches (as scoring runs), ragged
   shuffled batches (much padding) and one post at a time. The largest |Δ| of score and logit is kept.
3. **Cache** in ``<model dir>/onnx/`` (``model.onnx``, ``check.json``), keyed by a hash of the weights in memory and
   the torch and onnxruntime versions: a model trained again, or a runtime upgraded, exports and checks again.
   A model never saved (no manifest in its directory) exports into a temporary directory, never into its base model.
4. **Decision**, each time: the graph is the "exact" default only when its check found no |Δ| above `TOLERANCE`;
   otherwise (or when the export failed) scoring stays on torch fp32 and the status says why.

No Django here; torch, onnx and onnxruntime are imported inside the functions.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from .calibration import sigmoid
from .scoring import score_distinct
from .storage import MANIFEST

TOLERANCE = 1e-4  # the largest |Δ| (score or logit) against torch fp32 that keeps ONNX Runtime the default
PROBES = 256  # random-token probe posts in the check
SAMPLE = 200  # of the caller's posts, spread over their lengths
RAGGED_BATCH = 16
SINGLES = 48  # posts also scored one at a time
OPSET = 17
FORMAT = 1
SUBDIR, GRAPH, REPORT = "onnx", "model.onnx", "check.json"
OUTPUTS = ("logits", "vectors")


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class OnnxScorer:
    """One ONNX Runtime session (CPU execution provider, intra-op threads = available cores) on an exported
    classifier graph: ``run(batch)`` gives (logits, vectors) as float64 arrays for a batch the classifier built."""

    def __init__(self, path, threads: int | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or available_cores()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]

    def run(self, batch) -> tuple[np.ndarray, np.ndarray]:
        feed = {name: np.ascontiguousarray(np.asarray(batch[name]), dtype=np.int64) for name in self.inputs}
        logits, vectors = self.session.run(list(OUTPUTS), feed)
        return logits.astype(np.float64), vectors.astype(np.float64)


class ExactEngine:
    """A classifier's export and its check (``report``, JSON), with the session when the export exists."""

    def __init__(self, report: dict, scorer: OnnxScorer | None):
        self.report, self.scorer = report, scorer

    def status(self) -> dict:
        """The check with today's decision: ``default`` (ONNX Runtime scores "exact") and, when not, ``reason``."""
        report = {**self.report, "tolerance": TOLERANCE}
        diff = report.get("max_abs_diff")
        if report.get("error") or self.scorer is None:
            reason = report.get("error") or "the exported graph is missing"
        elif diff is None or not diff <= TOLERANCE:
            reason = (f"ONNX Runtime's scores differ from torch fp32 by up to {diff:.2g} on {report['posts']:,} posts "
                      f"(tolerance {TOLERANCE:g})")
        else:
            reason = None
        return {**report, "default": reason is None, "reason": reason}

    @property
    def usable(self) -> bool:
        return self.status()["default"]


# -- the graph ------------------------------------------------------------------------------------------------
def _graph_module(classifier):
    """The classifier as a module of (input_ids, attention_mask, token_type_ids | cls_index) → (logits, vectors)."""
    import torch
    from torch import nn

    def additive(allowed, dtype):
        return (1.0 - allowed) * torch.finfo(dtype).min

    class EncoderGraph(nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            keep = attention_mask.to(self.model.dtype)
            extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
            out = self.model(input_ids=input_ids, attention_mask=additive(keep, keep.dtype)[:, None, None, :],
                             output_hidden_states=True, **extra)
            weights = keep.unsqueeze(-1)
            vectors = (out.hidden_states[-1] * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)
            return out.logits[:, 0], vectors

    class GPT2Graph(nn.Module):
        def __init__(self, module):
            super().__init__()
            self.base, self.head = module.lm.base_model, module.head  # the LM head's vocabulary logits are not needed

        def forward(self, input_ids, attention_mask, cls_index):
            keep = attention_mask.to(self.head.weight.dtype)
            position = torch.cumsum(torch.ones_like(input_ids), dim=1)
            causal = (position[:, None, :] <= position[:, :, None]).to(keep.dtype)  # [batch, query, key]: key ≤ query
            bias = additive(causal * keep[:, None, :], keep.dtype)[:, None, :, :]
            hidden = self.base(input_ids=input_ids, attention_mask=bias, use_cache=False).last_hidden_state
            index = cls_index[:, None, None].expand(-1, 1, hidden.shape[-1])
            cls_hidden = hidden.gather(1, index).squeeze(1)
            return self.head(cls_hidden).squeeze(-1), cls_hidden

    if classifier.kind == "gpt2_classifier":
        return GPT2Graph(classifier.model_).eval()
    return EncoderGraph(classifier.model_).eval()


def _input_names(classifier) -> list[str]:
    batch = classifier._batch(["a"], with_lm_labels=False)
    names = ["input_ids", "attention_mask"]
    third = "cls_index" if classifier.kind == "gpt2_classifier" else "token_type_ids"
    return names + [third] if third in batch else names


def export(classifier, path) -> Path:
    """Write the classifier's graph to `path` (atomically: a concurrent reader sees the old file or the new)."""
    import torch

    path = Path(path)
    names = _input_names(classifier)
    example = classifier._batch(["a short post", "a somewhat longer post to pad the first one"], with_lm_labels=False)
    axes = {name: {0: "batch", 1: "tokens"} for name in names if name != "cls_index"}
    axes.update({"cls_index": {0: "batch"}, "logits": {0: "batch"}, "vectors": {0: "batch"}})
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    classifier.model_.eval()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about transformers' Python branches the graph never takes
        torch.onnx.export(_graph_module(classifier), tuple(example[n] for n in names), str(partial), dynamo=False,
                          input_names=names, output_names=list(OUTPUTS), dynamic_axes=axes, opset_version=OPSET)
    os.replace(partial, path)
    return path


def weights_fingerprint(classifier) -> str:
    """A hash of the weights in memory, the model's kind and the exporter's and runtime's versions."""
    import onnxruntime
    import torch

    digest = hashlib.sha256(f"{FORMAT} {classifier.kind} {torch.__version__} {onnxruntime.__version__}".encode())
    for name, tensor in sorted(classifier.model_.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


# -- the check ------------------------------------------------------------------------------------------------
def probe_texts(classifier, count: int = PROBES, seed: int = 0) -> list[str]:
    """Random token sequences of the model's own vocabulary, decoded, from one token to past its max length."""
    tokenizer = classifier.tokenizer_
    special = set(tokenizer.all_special_ids)
    vocabulary = np.array([i for i in range(len(tokenizer)) if i not in special])
    rng = np.random.default_rng(seed)
    lengths = np.linspace(1, classifier.config.max_length + 8, count).round().astype(int)
    return [tokenizer.decode(rng.choice(vocabulary, n).tolist(), skip_special_tokens=True) for n in lengths]


def sample_texts(texts, count: int = SAMPLE) -> list[str]:
    """Up to `count` distinct texts spread evenly over their lengths (the shortest and longest included)."""
    distinct = sorted(set(texts), key=lambda t: (len(t), t))
    if len(distinct) <= count:
        return distinct
    return [distinct[i] for i in np.linspace(0, len(distinct) - 1, count).round().astype(int)]


def difference_check(classifier, scorer: OnnxScorer, texts=(), batch_size: int = 128) -> dict:
    """Torch fp32 against the graph on the probe posts and a sample of `texts`, in three batch shapes: the largest
    |Δ| of score (calibrated, as stored), logit and vector."""
    posts = probe_texts(classifier) + sample_texts(texts)
    reference = classifier.logits_and_embeddings(posts, batch_size, mode="fp32")
    reference = np.column_stack(reference)

    def graph_rows(batch_texts):
        return np.column_stack(scorer.run(classifier._batch(batch_texts, with_lm_labels=False)))

    got = {"sorted": score_distinct(graph_rows, posts, batch_size, None, classifier._token_lengths)}
    order = np.random.default_rng(1).permutation(len(posts))
    ragged = np.empty_like(reference)
    for start in range(0, len(posts), RAGGED_BATCH):
        index = order[start:start + RAGGED_BATCH]
        ragged[index] = graph_rows([posts[i] for i in index])
    got["ragged"] = ragged
    singles = np.concatenate([order[:SINGLES], np.argsort([len(p) for p in posts])[-8:]])
    got["single"] = np.vstack([graph_rows([posts[i]]) for i in singles])
    expected = {"sorted": reference, "ragged": reference, "single": reference[singles]}
    temperature = float(getattr(classifier, "temperature_", 1.0))
    diffs = {"score": 0.0, "logit": 0.0, "vector": 0.0}
    for shape, rows in got.items():
        ref = expected[shape]
        diffs["logit"] = max(diffs["logit"], float(np.abs(rows[:, 0] - ref[:, 0]).max()))
        diffs["score"] = max(diffs["score"], float(np.abs(sigmoid(rows[:, 0] / temperature)
                                                          - sigmoid(ref[:, 0] / temperature)).max()))
        diffs["vector"] = max(diffs["vector"], float(np.abs(rows[:, 1:] - ref[:, 1:]).max()))
    return {
        "posts": len(posts),
        "probe_posts": len(posts) - len(sample_texts(texts)),
        "caller_posts": len(sample_texts(texts)),
        "batch_shapes": {"sorted": batch_size, "ragged": RAGGED_BATCH, "single": len(singles)},
        "max_abs_diff": max(diffs["score"], diffs["logit"]),
        "max_score_diff": diffs["score"],
        "max_logit_diff": diffs["logit"],
        "max_vector_diff": diffs["vector"],
    }


# -- cache and entry point ------------------------------------------------------------------------------------
def cache_directory(classifier) -> Path | None:
    """``<model dir>/onnx`` for a saved Murmuration model; None for one never saved (its directory, if any, is a
    base model's and must not be written)."""
    model_dir = getattr(classifier, "model_dir", None)
    if model_dir and (Path(model_dir) / MANIFEST).is_file():
        return Path(model_dir) / SUBDIR
    return None


def _writable(directory: Path | None) -> Path | None:
    """The cache directory, made; None where it cannot be written (a read-only model store exports to a temporary
    folder each time rather than fail the scoring)."""
    if directory is None:
        return None
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return directory if os.access(directory, os.W_OK) else None


def _read_report(directory: Path | None, fingerprint: str) -> dict | None:
    if directory is None or not (directory / REPORT).is_file():
        return None
    try:
        report = json.loads((directory / REPORT).read_text())
    except (OSError, ValueError):
        return None
    return report if report.get("fingerprint") == fingerprint and report.get("format") == FORMAT else None


def _write_report(directory: Path, report: dict) -> None:
    partial = directory / f".{REPORT}.{os.getpid()}.tmp"
    partial.write_text(json.dumps(report, indent=1))
    os.replace(partial, directory / REPORT)


def _export_and_check(classifier, directory: Path, fingerprint: str, texts) -> tuple[dict, OnnxScorer | None]:
    import onnxruntime
    import torch

    report = {"format": FORMAT, "fingerprint": fingerprint, "torch": torch.__version__,
              "onnxruntime": onnxruntime.__version__, "opset": OPSET, "error": None}
    started = time.perf_counter()
    try:
        scorer = OnnxScorer(export(classifier, directory / GRAPH))
    except Exception as exc:  # any exporter or runtime failure means: stay on torch, and say why
        report["error"] = f"the ONNX export failed: {type(exc).__name__}: {str(exc)[:300]}"
        return report, None
    report["export_s"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    try:
        report.update(difference_check(classifier, scorer, texts))
    except Exception as exc:  # the runtime refused a batch shape: the graph is not usable either
        report["error"] = f"the ONNX graph failed its check: {type(exc).__name__}: {str(exc)[:300]}"
        return report, None
    report["check_s"] = round(time.perf_counter() - started, 2)
    return report, scorer


def exact_engine(classifier, texts=()) -> ExactEngine:
    """The classifier's ONNX Runtime engine and its difference check: read from the cache next to the model's files
    when the weights are the same, else exported and checked now (on the probes and a sample of `texts`). The
    classifier keeps the engine while it keeps the same weight module (``_onnx_engine``): weights changed in place
    afterwards are seen by the next load, not by this instance."""
    fingerprint = weights_fingerprint(classifier)
    directory = _writable(cache_directory(classifier))
    report = _read_report(directory, fingerprint)
    if report is not None:
        graph = directory / GRAPH
        return ExactEngine(report, OnnxScorer(graph) if graph.is_file() and not report.get("error") else None)
    if directory is None:
        with tempfile.TemporaryDirectory(prefix="murmuration-onnx-") as scratch:  # the session keeps the graph
            report, scorer = _export_and_check(classifier, Path(scratch), fingerprint, texts)
        return ExactEngine({**report, "cached": False}, scorer)
    report, scorer = _export_and_check(classifier, directory, fingerprint, texts)
    _write_report(directory, report)
    return ExactEngine(report, scorer)
