"""Binary text classifiers in the scikit-learn shape: `fit(texts, labels, groups)` returns self, learned
state ends in `_`. Label 1 = information operation (or misinformation), 0 = control.

EncoderClassifier (docs/methods.md §spread): any local encoder directory (default the bundled MiniLM-L6), one logit,
BCE with logits and a positive-class weight. GPT2Classifier (docs/methods.md §language models): `[BOS]text[CLS]`, a
head on the
`[CLS]` hidden state plus the auxiliary LM loss; a local GPT-2 directory, or a tiny GPT-2 built from the
config with a byte-level BPE trained on the collection when none is given.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Callable

import numpy as np

from .calibration import GOALS, calibrate, held_out_reliability, not_calibrated, sigmoid
from .config import CPU, TINY_GPT2, ClassifierConfig, TextModelError
from .data import check_groups, check_labels, check_texts, split_indices, split_summary
from .metrics import classification_metrics
from .ood import SHIFT_MIN_POSTS, SentenceKNNOOD, fit_text_ood, load_ood
from .scoring import aggregate_by_account, change_quantiles, score_distinct
from .storage import read_manifest, save_pretrained, write_manifest
from .trainer import Trainer

# fp32: torch, the reference; int8: torch's dynamic int8 (faster, moves single scores); onnx: ONNX Runtime fp32, only
# where its export matched torch within ml.text.onnx_runtime.TOLERANCE; exact: onnx where it did, else fp32.
SCORING_MODES = ("fp32", "int8", "onnx", "exact")


class _TextClassifier:
    kind = ""
    temperature_ = 1.0  # until `calibrate` fits one; a model saved before calibration loads with T = 1
    ood_ = None  # the training posts' embedding summary (ml.text.ood); None for a model saved before it existed

    def __init__(self, model_dir=None, config: ClassifierConfig = CPU):
        self.model_dir = model_dir
        self.config = config

    # -- training -------------------------------------------------------------------------------
    def fit(self, texts, labels, groups=None, on_step: Callable | None = None):
        """1. Check inputs; 2. split train/validation/test, account-disjoint when `groups` are given;
        3. build the model; 4. train with early stopping on the validation loss; 5. calibrate on the validation
        split; 6. summarise the training posts' embeddings (out-of-distribution check, when the config asks);
        7. score the test split (and its distances to the training posts)."""
        texts = check_texts(texts)
        y = check_labels(labels, len(texts))
        groups = check_groups(groups, len(texts))
        config = self.config
        split = split_indices(y, groups, test_size=config.test_size, val_size=config.val_size, seed=config.train.seed,
                              account_disjoint=config.account_disjoint)
        def pick(part):
            return [texts[i] for i in split[part]]

        self._train(pick("train"), y[split["train"]], pick("val"), y[split["val"]], on_step)
        self.calibrate(pick("val"), y[split["val"]])
        if config.ood:
            self.fit_ood(pick("train"), y[split["train"]], None if groups is None else groups[split["train"]])
        test = split["test"]
        test_logits, test_distances = self.logits_and_distances([texts[i] for i in test])
        test_scores = sigmoid(test_logits / self.temperature_)
        if test_distances is not None:  # how many held-out posts (new accounts, same sources) the range leaves out
            self.ood_report_["test"] = self.ood_.describe(test_distances)
        self.split_ = split_summary(split, y, groups)
        self.split_index_ = {part: split[part] for part in ("train", "val", "test")}  # for baselines on this split
        self.metrics_ = classification_metrics(y[test], test_scores, self.decision_threshold)
        if self.calibration_["fitted"]:
            self.calibration_["test"] = held_out_reliability(test_logits, y[test], self.temperature_)
        self.test_ = {"index": test.tolist(), "labels": y[test].tolist(), "scores": test_scores.tolist()}
        return self

    def calibrate(self, texts, labels):
        """Temperature and threshold from these (validation) posts, as the config asks (``calibrate``,
        ``threshold_goal``, ``target_precision``): sets ``temperature_``, ``threshold_`` and ``calibration_``
        (ml.text.calibration). Without both classes, or when the config says no, T = 1 and the config's
        threshold, and ``calibration_`` says why."""
        config = self.config
        texts = check_texts(texts)
        y = np.asarray(labels, dtype=int)
        reason = None
        if not config.calibrate:
            reason = "calibration was turned off"
        elif len(texts) == 0:
            reason = "there is no validation split"
        elif len(set(y.tolist())) < 2:
            reason = "the validation split holds one class only"
        if reason is None:
            fixed = config.threshold_goal not in GOALS  # "fixed": T is fitted, the threshold stays the config's
            self.calibration_ = calibrate(self.logits(texts), y, goal="f1" if fixed else config.threshold_goal,
                                          target_precision=config.target_precision)
            if fixed:
                self.calibration_["threshold"] = {"goal": "fixed", "threshold": config.threshold, "reached": True}
        else:
            self.calibration_ = not_calibrated(reason, config.threshold)
        self.temperature_ = float(self.calibration_["temperature"])
        self.threshold_ = float(self.calibration_["threshold"]["threshold"])
        return self

    def fit_ood(self, texts, labels, groups=None):
        """Summarise these (training) posts' embeddings for the out-of-distribution check: ``ood_`` (a
        ml.text.ood.MahalanobisOOD) and ``ood_report_`` (its range, JSON). Too few posts: no summary, and the
        report says why."""
        texts = check_texts(texts)
        y = np.asarray(labels, dtype=int)
        try:
            self.ood_ = fit_text_ood(texts, y, groups, embed=self.embeddings, seed=self.config.train.seed)
        except TextModelError as exc:
            self.ood_, self.ood_report_ = None, {"error": str(exc)}
        else:
            self.ood_report_ = self.ood_.report()
        return self

    @property
    def decision_threshold(self) -> float:
        """The threshold that flags posts: chosen on validation when the model was calibrated, else the
        config's (0.5 for models made before calibration)."""
        return float(getattr(self, "threshold_", self.config.threshold))

    def fit_split(self, texts, labels, val_texts=(), val_labels=(), on_step: Callable | None = None):
        """Train on exactly these posts (a split the caller made, e.g. a data set's own train file), with
        optional validation posts for early stopping; no held-out metrics: call `evaluate` on a test set."""
        texts = check_texts(texts)
        val_texts = check_texts(val_texts)
        y = check_labels(labels, len(texts))
        val_y = check_labels(val_labels, len(val_texts)) if val_texts else np.zeros(0, dtype=int)
        self._train(texts, y, val_texts, val_y, on_step)
        return self

    def _train(self, texts, y, val_texts, val_y, on_step):
        """Build the model on the training posts, weight the positive class, train with early stopping."""
        import torch

        config = self.config
        torch.manual_seed(config.train.seed)
        self._int8_model = None  # a quantised copy of earlier weights would be stale
        self.temperature_ = 1.0  # and so would an earlier calibration (``calibrate`` sets them again)
        for stale in ("threshold_", "calibration_", "ood_", "ood_report_"):  # and the embeddings' summary
            self.__dict__.pop(stale, None)
        self._build(texts)
        pos_weight = (len(y) - y.sum()) / y.sum() if config.class_weight == "balanced" else 1.0
        self.history_ = Trainer(config.train).fit(
            self.model_,
            self._loss_fn(float(pos_weight)),
            [(t, int(label)) for t, label in zip(texts, y)],
            [(t, int(label)) for t, label in zip(val_texts, val_y)],
            on_step,
        )
        self.pos_weight_ = float(pos_weight)

    def _loss_fn(self, pos_weight: float):
        import torch
        from torch import nn

        bce = nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos_weight))

        def loss_fn(model, examples):
            batch = self._batch([t for t, _ in examples], with_lm_labels=True)
            targets = torch.tensor([label for _, label in examples], dtype=torch.float32)
            logits, aux = self._forward(model, batch)
            return bce(logits, targets) + aux

        return loss_fn

    # -- scoring --------------------------------------------------------------------------------
    def _check_fitted(self):
        if not hasattr(self, "model_"):
            raise TextModelError(f"this {type(self).__name__} is not fitted: call fit() or load() first")

    def probabilities(
        self, texts, batch_size: int = 128, on_step: Callable | None = None, *, mode: str = "fp32"
    ) -> np.ndarray:
        """P(label 1) per text, calibrated (sigmoid of the logit divided by ``temperature_``), reporting
        progress through `on_step`.

        Each distinct text is scored once, in batches of similar token length (little padding). `mode`:
        "fp32" (torch, exact, the default) or "int8" (Linear layers in dynamic int8: faster on CPU, scores move a
        little; measure the AUC change with `quantization_report` and store it with the scores); "exact" runs ONNX
        Runtime where its export matched torch (`scoring_mode` says which ran), "onnx" insists on it."""
        return sigmoid(self.logits(texts, batch_size, on_step, mode=mode) / self.temperature_)

    def logits(
        self, texts, batch_size: int = 128, on_step: Callable | None = None, *, mode: str = "fp32"
    ) -> np.ndarray:
        """The head's raw logit per text (before the temperature), as `probabilities` computes it."""
        return self._score(texts, batch_size, on_step, mode, None)

    def embeddings(
        self, texts, batch_size: int = 128, on_step: Callable | None = None, *, mode: str = "fp32"
    ) -> np.ndarray:
        """One vector per text, the one the out-of-distribution check compares: the encoder's last hidden states
        averaged over the post's tokens, or GPT-2's hidden state at the `[CLS]` token its head reads."""
        return self._score(texts, batch_size, on_step, mode, "embeddings")[1]

    def logits_and_embeddings(
        self, texts, batch_size: int = 128, on_step: Callable | None = None, *, mode: str = "fp32"
    ) -> tuple[np.ndarray, np.ndarray]:
        """(logits, embeddings as in `embeddings`) in one pass over the texts."""
        return self._score(texts, batch_size, on_step, mode, "embeddings")

    def logits_and_distances(
        self, texts, batch_size: int = 128, on_step: Callable | None = None, *, mode: str = "fp32"
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """(logits, distances to the training posts) in one pass over the texts; distances are None for a model
        without an embedding summary (trained before the out-of-distribution check existed)."""
        logits, distances, _ = self.logits_and_measures(texts, batch_size, on_step, mode=mode)
        return logits, distances

    def logits_and_measures(self, texts, batch_size: int = 128, on_step: Callable | None = None, *,
                            mode: str = "fp32", shift=None) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """(logits, distances, shift probabilities) in one pass: the shift probabilities come from ``shift`` (the
        scored collection's ``ml.text.ood.CollectionShift``), None without one; distances None as above."""
        if self.ood_ is None:
            return self.logits(texts, batch_size, on_step, mode=mode), None, None
        logits, measures = self._score(texts, batch_size, on_step, mode, "distances", shift)
        return logits, measures[:, 0], None if shift is None else measures[:, 1]

    def _score(self, texts, batch_size, on_step, mode, extra, shift=None):
        """Logits per text; with ``extra`` "embeddings" or "distances", (logits, rows of that) from the same pass."""
        import torch

        self._check_fitted()
        texts = check_texts(texts)
        mode = self.scoring_mode(mode, texts)
        engine = self._onnx_engine(texts).scorer if mode == "onnx" else None  # one graph gives logits and vectors
        model = None if engine is not None else self._scoring_model(mode)

        def score_batch(batch_texts):
            batch = self._batch(batch_texts, with_lm_labels=False)
            if engine is not None:
                logits, vectors = engine.run(batch)
                if extra is None:
                    return logits
            else:
                with torch.inference_mode():
                    if extra is None:
                        return self._forward(model, batch)[0].double().numpy()
                    logits, vectors = self._embed(model, batch)
                logits, vectors = logits.double().numpy(), vectors.double().numpy()
            if extra == "distances":
                vectors = self.ood_.batch_measures(batch_texts, vectors, shift)
            return np.column_stack([logits, vectors])

        out = score_distinct(score_batch, texts, batch_size, on_step, self._token_lengths)
        if extra is None:
            return out
        if not texts:
            return out, out.reshape(0, 0)
        return out[:, 0], out[:, 1:]

    def scoring_mode(self, mode: str, texts=()) -> str:
        """The mode that scores for `mode`: "exact" becomes "onnx" where ONNX Runtime's export of these weights
        passed its difference check (exported and checked on first use, on probes and a sample of `texts`), else
        "fp32"; "onnx" is refused where the check failed."""
        if mode not in SCORING_MODES:
            raise TextModelError(f"scoring mode must be one of {', '.join(SCORING_MODES)}, got {mode!r}")
        if mode not in ("exact", "onnx"):
            return mode
        status = self.exact_status(texts)
        if mode == "onnx" and not status["default"]:
            raise TextModelError(f"ONNX Runtime is refused for this model: {status['reason']}")
        return "onnx" if status["default"] else "fp32"

    def exact_status(self, texts=()) -> dict:
        """ONNX Runtime's difference check against torch fp32 for these weights (ml.text.onnx_runtime), with
        ``default`` (it scores "exact") and ``reason`` when not."""
        return self._onnx_engine(texts).status()

    def _onnx_engine(self, texts=()):
        from .onnx_runtime import exact_engine

        self._check_fitted()
        cached = self.__dict__.get("_onnx")
        if cached is None or cached[0] is not self.model_:  # new weights (fit again, quantized copy): export again
            self.model_.eval()
            self._onnx = (self.model_, exact_engine(self, texts))
        return self._onnx[1]

    def _scoring_model(self, mode: str):
        if mode not in ("fp32", "int8"):
            raise TextModelError(f"scoring mode must be one of {', '.join(SCORING_MODES)}, got {mode!r}")
        self.model_.eval()
        if mode == "fp32":
            return self.model_
        if getattr(self, "_int8_model", None) is None:
            self._int8_model = self._quantized_module()
        return self._int8_model

    def predict_proba(self, texts) -> np.ndarray:
        p = self.probabilities(texts)
        return np.column_stack([1 - p, p])

    def predict(self, texts) -> np.ndarray:
        return (self.probabilities(texts) >= self.decision_threshold).astype(int)

    def score_accounts(
        self,
        texts,
        accounts,
        *,
        threshold: float | None = None,
        batch_size: int = 128,
        on_step: Callable | None = None,
        mode: str = "fp32",
        shift: bool = True,
    ) -> dict:
        """Per-post scores (calibrated) and per-account aggregates (mean, max, share at or above the
        threshold: the model's own unless given); `mode` as in `probabilities`; the result says the mode that
        scored ("exact" resolved to "onnx" or "fp32").

        ``ood``: each post's distance to the training posts, its shift probability (the collection against the
        training posts, ``ml.text.ood.CollectionShift``; ``shift`` None where the check did not run), whether it is
        ``unreliable`` (beyond the training range, or above the shift limit), the range, the share of posts beyond it,
        the share marked (``unreliable_share``) and the shift check's summary; None for a model trained before the
        check existed. ``shift``: False skips the shift check."""
        threshold = self.decision_threshold if threshold is None else threshold
        mode = self.scoring_mode(mode, texts)  # "exact" → the engine that scored: "onnx" or "fp32"
        collection_shift = None
        if shift and self.ood_ is not None:
            collection_shift = self.ood_.fit_shift(texts, seed=self.config.train.seed)
        logits, distances, probabilities = self.logits_and_measures(texts, batch_size, on_step, mode=mode,
                                                                    shift=collection_shift)
        scores = sigmoid(logits / self.temperature_)
        ood = None
        if distances is not None:
            marks = self.ood_.unreliable(distances, probabilities,
                                         None if collection_shift is None else collection_shift.limit)
            ood = {"distances": distances.tolist(), "unreliable": marks.tolist(),
                   "shift": None if probabilities is None else probabilities.tolist(),
                   "unreliable_share": float(marks.mean()) if len(marks) else 0.0,
                   "shift_check": _shift_summary(self.ood_, collection_shift, probabilities, bool(shift)),
                   **self.ood_.describe(distances)}
        return {
            "scores": scores.tolist(),
            "threshold": threshold,
            "temperature": self.temperature_,
            "mode": mode,
            "accounts": aggregate_by_account(scores, check_groups(accounts, len(scores)), threshold),
            "ood": ood,
        }

    def evaluate(self, texts, labels, threshold: float | None = None) -> dict:
        y = check_labels(labels, len(list(texts)))
        threshold = self.decision_threshold if threshold is None else threshold
        return classification_metrics(y, self.probabilities(texts), threshold)

    # -- int8 -----------------------------------------------------------------------------------
    def quantized(self):
        """A copy whose Linear layers run in dynamic int8 (faster on CPU; predictions shift slightly: see
        quantization_report). GPT-2's blocks are Conv1D, so there only the heads are quantised."""
        self._check_fitted()
        other = copy.copy(self)
        other.model_ = self._quantized_module()
        other._int8_model = None
        return other

    def _quantized_module(self):
        import warnings

        import torch

        with warnings.catch_warnings():  # torch 2.13 deprecates the quantised tensor API but still ships it
            warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*", category=UserWarning)
            warnings.filterwarnings("ignore", message=".*torch.ao.quantization is deprecated.*")
            return torch.ao.quantization.quantize_dynamic(
                copy.deepcopy(self.model_).eval(), {torch.nn.Linear}, dtype=torch.qint8
            )

    def quantization_report(self, texts, labels, mode: str = "int8") -> dict:
        """What a faster scoring mode costs on labelled posts: AUC in fp32 and in `mode`, the change, and the
        share of predictions that flip at the threshold. Store it with scores made in that mode."""
        from sklearn.metrics import roc_auc_score

        texts = check_texts(texts)
        y = check_labels(labels, len(texts))
        before = self.probabilities(texts)
        after = self.probabilities(texts, mode=mode)
        t = self.decision_threshold
        auc_fp32, auc_fast = float(roc_auc_score(y, before)), float(roc_auc_score(y, after))
        return {
            "mode": mode,
            "posts": len(texts),
            "auc_fp32": auc_fp32,
            f"auc_{mode}": auc_fast,
            "auc_change": auc_fast - auc_fp32,
            "changed_predictions": float(((before >= t) != (after >= t)).mean()),
            "max_score_change": float(np.abs(before - after).max()),
            "per_post_change": change_quantiles(before, after),  # what one post's score can move
        }

    # -- attention ------------------------------------------------------------------------------
    def attention(self, text: str, max_tokens: int = 40) -> dict:
        """Attention for one post (eager attention), rounded to 3 decimals: see ml.text.attention."""
        from .attention import attention_data

        self._check_fitted()
        batch, tokens, source = self._attention_inputs(text, max_tokens)
        return attention_data(self.model_, lambda: self._attentions(batch), tokens, source)

    # -- storage --------------------------------------------------------------------------------
    def save(self, directory) -> Path:
        """Weights + config + tokenizer + metrics JSON in one directory."""
        self._check_fitted()
        path = Path(directory)
        self._save_weights(path)
        if self.ood_ is not None:
            self.ood_.save(path)
        return write_manifest(
            path,
            self.kind,
            config=self.config.as_dict(),
            metrics=getattr(self, "metrics_", None),
            split=getattr(self, "split_", None),
            history=getattr(self, "history_", None),
            pos_weight=getattr(self, "pos_weight_", None),
            calibration=getattr(self, "calibration_", None),
            ood=getattr(self, "ood_report_", None),
        )

    @classmethod
    def load(cls, directory):
        manifest = read_manifest(directory, cls.kind)
        model = cls(model_dir=str(directory), config=ClassifierConfig.from_dict(manifest["config"]))
        model._load_weights(Path(directory))
        model.model_.eval()
        for key in ("metrics", "split", "history", "pos_weight", "calibration"):
            if manifest.get(key) is not None:
                setattr(model, f"{key}_", manifest[key])
        model.ood_ = load_ood(directory, manifest.get("ood"))  # None for a model saved before it existed
        if model.ood_ is not None:
            model.ood_report_ = manifest.get("ood") or model.ood_.report()
        if manifest.get("calibration") is not None:  # a model saved before calibration keeps T = 1 and 0.5
            model.temperature_ = float(manifest["calibration"]["temperature"])
            model.threshold_ = float(manifest["calibration"]["threshold"]["threshold"])
        return model


class EncoderClassifier(_TextClassifier):
    kind = "encoder_classifier"

    def _build(self, train_texts):
        from .models import bundled_encoder_directory, load_encoder

        self.model_, self.tokenizer_ = load_encoder(self.model_dir or bundled_encoder_directory())

    def _read_length(self) -> int:
        """The tokens a post is cut to: ``max_length``, but never more than the encoder has positions for (a small
        local model with 64 positions, asked for 128, would otherwise fail on the first long post). RoBERTa-style
        encoders keep two positions for padding."""
        from .models import token_positions

        positions = token_positions(getattr(getattr(self, "model_", None), "config", None))
        return self.config.max_length if positions is None else max(2, min(self.config.max_length, positions))

    def _batch(self, texts, with_lm_labels):
        return self.tokenizer_(
            list(texts), padding=True, truncation=True, max_length=self._read_length(), return_tensors="pt"
        )

    def _forward(self, model, batch):
        return model(**batch).logits[:, 0], 0.0

    def _embed(self, model, batch):
        """(logits, the last hidden states averaged over each post's tokens, padding left out)."""
        out = model(**batch, output_hidden_states=True)
        mask = batch["attention_mask"].unsqueeze(-1).to(out.hidden_states[-1].dtype)
        return out.logits[:, 0], (out.hidden_states[-1] * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)

    def _token_lengths(self, texts):
        ids = self.tokenizer_(list(texts), truncation=True, max_length=self._read_length())["input_ids"]
        return [len(row) for row in ids]

    def _attention_inputs(self, text, max_tokens):
        batch = self.tokenizer_(
            [text], truncation=True, max_length=min(max_tokens, self._read_length()), return_tensors="pt"
        )
        tokens = self.tokenizer_.convert_ids_to_tokens(batch["input_ids"][0].tolist())
        return batch, tokens, 0  # [CLS] is the first token

    def _attentions(self, batch):
        return self.model_(**batch, output_attentions=True).attentions

    def _save_weights(self, path):
        save_pretrained(path, self.model_, self.tokenizer_)

    def _load_weights(self, path):
        from .models import load_encoder

        self.model_, self.tokenizer_ = load_encoder(path)


class GPT2Classifier(_TextClassifier):
    kind = "gpt2_classifier"

    def __init__(self, model_dir=None, config: ClassifierConfig = TINY_GPT2):
        super().__init__(model_dir, config)

    def _build(self, train_texts):
        from .models import gpt2_classifier_module, load_gpt2, tiny_gpt2
        from .vocab import ensure_gpt2_specials, train_bpe_tokenizer

        if self.model_dir is None:
            self.tokenizer_ = train_bpe_tokenizer(train_texts, self.config.tiny.vocab_size)
            lm = tiny_gpt2(self.tokenizer_, self.config.tiny)
        else:
            lm, self.tokenizer_ = load_gpt2(self.model_dir)
            if ensure_gpt2_specials(self.tokenizer_):
                lm.resize_token_embeddings(len(self.tokenizer_))
        self.model_ = gpt2_classifier_module(lm)

    def _ids(self, texts):
        """`[BOS]text[CLS]` as ids: the text is truncated, never the `[CLS]` the head reads. Joining ids
        (not strings) also avoids the lone `Ġ` a space before `[CLS]` would add."""
        tok = self.tokenizer_
        limit = min(self.config.max_length, self._positions()) - 2
        bodies = tok(list(texts), add_special_tokens=False, truncation=True, max_length=limit)["input_ids"]
        bos, cls = tok.convert_tokens_to_ids("[BOS]"), tok.convert_tokens_to_ids("[CLS]")
        return [[bos, *body, cls] for body in bodies]

    def _positions(self):
        lm = self.model_.lm if hasattr(self, "model_") else None
        return lm.config.n_positions if lm is not None else self.config.tiny.n_positions

    def _batch(self, texts, with_lm_labels):
        import torch

        ids = self._ids(texts)
        width, pad = max(len(row) for row in ids), self.tokenizer_.pad_token_id
        input_ids = torch.tensor([row + [pad] * (width - len(row)) for row in ids])
        mask = torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in ids])
        batch = {"input_ids": input_ids, "attention_mask": mask, "cls_index": torch.tensor([len(r) - 1 for r in ids])}
        if with_lm_labels and self.config.lm_weight > 0:
            batch["lm_labels"] = input_ids.masked_fill(mask == 0, -100)
        return batch

    def _token_lengths(self, texts):
        return [len(row) for row in self._ids(texts)]

    def _forward(self, model, batch):
        logits, out = model(**batch)
        aux = self.config.lm_weight * out.loss if out.loss is not None else 0.0
        return logits, aux

    def _embed(self, model, batch):
        """(logits, the final hidden state at `[CLS]`: what the head reads)."""
        import torch

        logits, out = model(**batch)
        hidden = out.hidden_states[-1]
        return logits, hidden[torch.arange(hidden.shape[0]), batch["cls_index"]]

    def _attention_inputs(self, text, max_tokens):
        import torch

        ids = self._ids([text])[0]
        if len(ids) > max_tokens:
            ids = ids[: max_tokens - 1] + ids[-1:]  # keep [CLS], the token the head reads
        batch = {
            "input_ids": torch.tensor([ids]),
            "attention_mask": torch.ones(1, len(ids), dtype=torch.long),
            "cls_index": torch.tensor([len(ids) - 1]),
        }
        return batch, self.tokenizer_.convert_ids_to_tokens(ids), len(ids) - 1

    def _attentions(self, batch):
        return self.model_(**batch, output_attentions=True)[1].attentions

    def _save_weights(self, path):
        import torch

        save_pretrained(path, self.model_.lm, self.tokenizer_)
        torch.save(self.model_.head.state_dict(), path / "cls_head.pt")

    def _load_weights(self, path):
        import torch

        from .models import gpt2_classifier_module, load_gpt2

        lm, self.tokenizer_ = load_gpt2(path)
        self.model_ = gpt2_classifier_module(lm)
        self.model_.head.load_state_dict(torch.load(path / "cls_head.pt", weights_only=True))


def _shift_summary(ood, shift, probabilities, asked: bool) -> dict:
    """The shift check's summary for the score page, or why there is none."""
    if shift is not None:
        return shift.describe(probabilities)
    if not asked:
        return {"available": False, "reason": "not asked for"}
    if not isinstance(ood, SentenceKNNOOD):
        return {"available": False, "reason": "the model keeps no sentence vectors of its training posts (a "
                                              "Mahalanobis summary, from before the shift check)"}
    return {"available": False, "reason": f"fewer than {SHIFT_MIN_POSTS} distinct posts to compare, in this "
                                          "collection or among the model's training posts"}
