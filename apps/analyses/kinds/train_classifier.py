"""Train a text classifier (docs/methods.md: language models, spread): labelled posts in, a ``TextModel`` out.

Labels come from an account label (e.g. account_category in RightTroll, LeftTroll → 1, other values → 0),
a post label (veracity = false → 1), or two collections (positive vs negative). At most ``max_posts``
posts are read, half a class at most when both have enough, picked by a seeded generator (the same
collection gives the same model). ``max_length`` blank: 128 tokens when more than a tenth of those posts are longer
than 64 with the model's own tokenizer, else 64 (``ml.text.lengths``; the choice and why: ``result["max_length"]``,
the model's ``params``). The split is account-disjoint: groups are the accounts' platform ids.
After training, one temperature T is fitted on the validation split and the threshold that flags posts is
chosen there for the analyst's goal (the best F1, or a precision they set): ``ml.text.calibration``; both
are stored with the metrics (``calibration``). The training posts' embeddings are summarised for the
out-of-distribution check of scoring (``ml.text.ood``: saved beside the weights, the range in ``metrics["ood"]``),
and the cheap baselines and the topic probe are trained on the same split, with the confound check
(``ml.text.baselines``: ``metrics["baselines"]``, ``metrics["confounds"]``). External validation: another
labelled collection (the same labels) or another pair of collections, never read by the training, scored after it
(``metrics["external"]``: AUC, F1, ECE before and after T, the share beyond the training range).

``run`` trains and writes the weights to a staging directory; ``after_create`` (called by
``analysis_run`` inside the transaction that writes the Analysis) makes the ``TextModel`` row and moves
the weights to ``MEDIA_ROOT/models/<id>``. ``cleanup`` removes a failed run's staging directory.
torch and transformers are imported inside ``ml.text``'s functions, only when a job runs.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from django.conf import settings

from apps.analyses import selectors
from apps.analyses.kinds.base import CHOICE, FLAG, FLOAT, INT, LIST, TEXT, Kind, Param
from apps.analyses.models import TextModel
from apps.collections.models import Collection
from apps.jobs.services import JobError

SOURCES = ("account_label", "post_label", "collections")
MODELS = {"encoder": "bundled MiniLM", "gpt2": "tiny GPT-2"}
# A CPU default: 2,000 posts, one epoch of MiniLM, about a minute on 2 cores (see the report/bench).
DEFAULTS = {"encoder": {"epochs": 1, "batch_size": 16, "learning_rate": 5e-5},
            "gpt2": {"epochs": 5, "batch_size": 16, "learning_rate": 1e-3}}
MAX_POSTS_DEFAULT, MAX_POSTS_MAX = 2_000, 1_000_000
THRESHOLD_GOALS = ("f1", "precision")  # ml.text.calibration.GOALS
TARGET_PRECISION_DEFAULT = 0.9
KEY_RE = re.compile(r"^(?!.*__)[\w.\- ]{1,100}$")
SEED = 0


def labels_check(collection, clean: dict, errors: dict) -> dict:
    """The label key and its positive values, checked against the collection's own labels (``label_source``
    account_label or post_label); the behaviour and embedding-map kinds check theirs here too."""
    source, key, positive = clean["label_source"], clean["label_key"], clean["positive_values"]
    what = "account" if source == "account_label" else "post"
    if not key:
        errors["label_key"] = (
            f"Name the {what} label to learn, e.g. {'account_category' if what == 'account' else 'veracity'}."
        )
        return {}
    if not KEY_RE.match(key):
        errors["label_key"] = f"{key!r} is not a label name (letters, digits, _ . - and spaces)."
        return {}
    known = selectors.label_values(collection=collection, source=source, key=key, limit=200)
    if not known:
        errors["label_key"] = f"No {what} of the collection “{collection.name}” has the label {key!r}."
        return {}
    missing = [v for v in positive if v not in known]
    if not positive:
        errors["positive_values"] = f"Choose the positive value(s) of {key!r}, among: {', '.join(known[:20])}."
    elif missing:
        errors["positive_values"] = (
            f"{key!r} never takes the value(s) {', '.join(map(repr, missing))}; it takes: {', '.join(known[:20])}."
        )
    elif set(known) <= set(positive):
        errors["positive_values"] = (
            f"Every {what} with {key!r} would be positive, so there is one class only: "
            f"leave at least one of {', '.join(known[:20])} out."
        )
    return {"label_key": key, "positive_values": positive}


def _collections_check(collection, clean: dict, errors: dict) -> dict:
    ids = {}
    for field, default in (("positive_collection", collection.pk), ("negative_collection", None)):
        pk = clean[field] or default
        found = Collection.objects.filter(investigation=collection.investigation_id, pk=pk).first() if pk else None
        if found is None:
            errors[field] = f"Choose a collection of this investigation for {field.replace('_', ' ')}."
        else:
            ids[field] = found.pk
    if len(ids) == 2 and ids["positive_collection"] == ids["negative_collection"]:
        errors["negative_collection"] = "The negative collection must differ from the positive one: one class only."
    return ids


EXTERNAL_FIELDS = ("validate_collection", "validate_positive_collection", "validate_negative_collection")


def _external_check(collection, clean: dict, training_ids: dict, errors: dict) -> dict:
    """The external pair (``validate_*``): collections of this investigation that the training does not read. For
    two collections: a positive and a negative one, both or neither; for a label: one collection whose posts carry
    the same label with both classes. {} when none is asked for."""
    if clean["label_source"] == "collections":
        given = {f: clean[f] for f in EXTERNAL_FIELDS[1:] if clean[f]}
        if len(given) == 1:
            missing = next(f for f in EXTERNAL_FIELDS[1:] if f not in given)
            errors[missing] = "Validating on another pair needs both its positive and its negative collection."
            return {}
        if clean["validate_collection"]:
            errors["validate_collection"] = "With two collections as labels, validate on another pair of collections."
            return {}
    else:
        given = {"validate_collection": clean["validate_collection"]} if clean["validate_collection"] else {}
        for field in EXTERNAL_FIELDS[1:]:
            if clean[field]:
                errors[field] = "With a label, validate on one other collection that carries the same label."
    training = set(training_ids.values()) | {collection.pk}
    out = {}
    for field, pk in given.items():
        found = Collection.objects.filter(investigation=collection.investigation_id, pk=pk).first()
        if found is None:
            errors[field] = "Choose a collection of this investigation."
        elif found.pk in training:
            errors[field] = f"“{found.name}” is read by the training: validate on a collection it does not read."
        else:
            out[field] = found.pk
    if len(out) == 2 and out["validate_positive_collection"] == out["validate_negative_collection"]:
        errors["validate_negative_collection"] = "The external pair needs two different collections."
    if "validate_collection" in out and not errors:
        _external_labels_check(Collection.objects.get(pk=out["validate_collection"]), clean, errors)
    return out


def _external_labels_check(other, clean: dict, errors: dict) -> None:
    """The external collection must carry the training's label with a positive and a control value."""
    if not clean.get("label_key"):
        return
    known = selectors.label_values(collection=other, source=clean["label_source"], key=clean["label_key"], limit=200)
    positive = set(clean["positive_values"])
    if not any(v in positive for v in known) or all(v in positive for v in known):
        errors["validate_collection"] = (
            f"“{other.name}” needs posts of both classes of {clean['label_key']!r} (values there: "
            f"{', '.join(known[:20]) or 'none'})."
        )


def base_dir_check(value: str, model: str, errors: dict) -> str:
    """A local Hugging Face directory of the right family, or "" for the default base model."""
    from ml.text.config import TextModelError
    from ml.text.models import check_model_directory

    if not value:
        return ""
    if not _allowed_base_dir(value):
        errors["base_dir"] = (
            f"{value!r} is outside the directories this server allows for base models (MURMURATION_BASE_MODEL_DIRS)."
        )
        return value
    try:
        path = check_model_directory(value)
        model_type = json.loads((path / "config.json").read_text()).get("model_type", "")
    except TextModelError as exc:
        errors["base_dir"] = f"{exc}."
        return value
    except (OSError, ValueError):
        errors["base_dir"] = f"{value!r} has a config.json that cannot be read."
        return value
    if (model == "gpt2") != (model_type == "gpt2"):
        errors["base_dir"] = (
            f"{value!r} holds a {model_type or 'unknown'} model, not {'a GPT-2' if model == 'gpt2' else 'an encoder'}."
        )
    return str(path.resolve())


def _allowed_base_dir(value: str) -> bool:
    path = Path(value).resolve()
    roots = [Path(r).resolve() for r in settings.MURMURATION.get("BASE_MODEL_DIRS", [])]
    return any(path == root or root in path.parents for root in roots)


def _default_name(collection, clean: dict) -> str:
    if clean["label_source"] == "collections":
        ids = [clean["positive_collection"], clean["negative_collection"]]
        names = dict(Collection.objects.filter(pk__in=ids).values_list("pk", "name"))
        what = " vs ".join(f"“{names[pk]}”" if pk in names else f"#{pk}" for pk in ids)
    else:
        what = f"{clean['label_key']} in {', '.join(clean['positive_values'])}"
    return f"{clean['model']} · {what} · {collection.name}"[:200]


def _int8_report(classifier, texts: list[str], labels: list[int]) -> dict:
    """What scoring in int8 costs on this model's held-out posts: the AUC change and the
    share of flipped predictions, shown where the analyst picks the mode. Needs both classes held out."""
    from ml.text import TextModelError

    if len(set(labels)) < 2:
        return {"error": "the held-out posts hold one class only: the AUC change cannot be measured"}
    try:
        return classifier.quantization_report(texts, labels, mode="int8")
    except TextModelError as exc:
        return {"error": str(exc)}


def split_type(split: dict) -> str:
    """The held-out split's kind, as the headline states it: "account-disjoint" (no account in two parts) or
    "random"; an account-disjoint split of posts that each have their own account (text-only imports) is
    random in effect, and says so."""
    if not split.get("account_disjoint"):
        return "random"
    parts = [split[name] for name in ("train", "val", "test") if isinstance(split.get(name), dict)]
    if parts and all(part.get("accounts") == part.get("posts") for part in parts if part.get("posts")):
        return "account-disjoint (one post per account: random in effect)"
    return "account-disjoint"


def calibration_summary(metrics: dict) -> dict:
    """What the pages say about a model's calibration and threshold, from its stored metrics: T, the
    threshold and the goal it was chosen for, and the figures on validation and on the held-out test. A
    model trained before calibration has T = 1 and the fixed threshold (0.5), and ``calibrated`` False."""
    report = metrics.get("calibration")
    if not report:
        threshold = float(metrics.get("threshold", 0.5))
        return {"calibrated": False, "temperature": 1.0, "threshold": threshold, "goal": "fixed",
                "reason": "the model was trained before calibration was added"}
    chosen = report["threshold"]
    out = {
        "calibrated": bool(report.get("fitted")),
        "temperature": float(report["temperature"]),
        "threshold": float(chosen["threshold"]),
        "goal": chosen.get("goal", "fixed"),
        "target_precision": chosen.get("target_precision"),
        "reached": chosen.get("reached", True),
        "reason": report.get("reason"),
    }
    if report.get("fitted"):
        test = report.get("test") or {}
        out.update(
            {k: chosen.get(k) for k in ("f1", "precision", "recall", "flagged")},
            validation_posts=report["posts"], ece_before=report["ece_before"], ece_after=report["ece_after"],
            test_ece_before=test.get("ece_before"), test_ece_after=test.get("ece_after"),
            separable=report.get("separable", False), clipped=report.get("clipped", False),
        )
    external = external_summary(metrics)
    if external["available"]:  # the score page keeps this summary: the external figure goes with it
        out["external"] = {k: external[k] for k in ("collections", "auc", "f1", "ece_after", "unreliable_share")}
    return out


def ood_summary(metrics: dict) -> dict:
    """What the pages say about a model's out-of-distribution check: ``available`` False (with the reason) for a
    model trained before it existed or whose training posts were too few; else the range and, on the held-out
    test posts (new accounts of the same sources), the share beyond it."""
    report = metrics.get("ood")
    if not report:
        return {"available": False, "reason": "trained before it existed"}
    if report.get("error"):
        return {"available": False, "reason": report["error"]}
    test = report.get("test") or {}
    return {"available": True, "p95": report["p95"], "p99": report["p99"], "posts": report.get("posts"),
            "dims": report.get("dims"), "range_from": report.get("range_from"),
            "method": report.get("method", "mahalanobis"), "k": report.get("k"),
            "test_outside": test.get("outside_p99"), "test_posts": test.get("posts")}


def external_summary(metrics: dict) -> dict:
    """The external pair's figures beside the internal split's (rows for the pages); ``available`` False when the
    model was validated on its own split only."""
    external = metrics.get("external")
    if not external:
        return {"available": False}
    if external.get("error"):
        return {"available": False, "error": external["error"]}
    calibration = metrics.get("calibration") or {}
    internal = {k: metrics.get(k) for k in ("n", "positives", "auc", "f1", "precision", "recall")}
    internal.update(ece_before=(calibration.get("test") or {}).get("ece_before"),
                    ece_after=(calibration.get("test") or {}).get("ece_after"),
                    unreliable_share=((metrics.get("ood") or {}).get("test") or {}).get("outside_p99"))
    return {"available": True, "collections": external["collections"],
            "rows": [{"name": "internal held-out test", "key": "internal", **internal},
                     {"name": "external: " + " vs ".join(c["name"] for c in external["collections"]), "key": "external",
                      **{k: external.get(k) for k in internal}}],
            "auc": external.get("auc"), "f1": external.get("f1"), "ece_after": external.get("ece_after"),
            "unreliable_share": external.get("unreliable_share")}


def confound_summary(metrics: dict) -> dict:
    """The baselines beside the model (rows for the side-by-side table) and the confound checks; ``available``
    False for a model trained before they existed."""
    base, confounds = metrics.get("baselines"), metrics.get("confounds")
    if not base or not confounds:
        return {"available": False}
    model = {k: metrics.get(k) for k in ("auc", "f1", "precision", "recall", "accuracy")}
    rows = [{"name": "this model", "key": "model", **model},
            {"name": "topic probe (bag of topic words)", "key": "topic_probe", **base["topic_probe"]},
            {"name": "TF-IDF + logistic regression", "key": "tfidf_lr", **base["tfidf_lr"]},
            {"name": "majority class", "key": "majority", **base["majority"]}]
    fired = [c for c in confounds["checks"] if c["fired"]]
    return {"available": True, "rows": rows, "probe": base["topic_probe"], "checks": confounds["checks"],
            "fired": fired, "probe_target": base.get("probe_target", "the label")}


def summary(result: dict) -> dict:
    m = result["metrics"]
    calibration = calibration_summary(m)
    confounds = confound_summary(m)
    return {
        "model": result["model"],
        "split": split_type(result["split"]),
        "posts": result["posts"],
        "positives": result["positives"],
        "max_length": (result.get("max_length") or {}).get("max_length"),
        "auc": m.get("auc"),
        "f1": m.get("f1"),
        "threshold": calibration["threshold"],
        "threshold_goal": calibration["goal"],
        "temperature": calibration["temperature"],
        "account_disjoint": result["split"]["account_disjoint"],
        "probe_auc": confounds["probe"]["auc"] if confounds["available"] else None,
        "confound_warnings": [c["check"] for c in confounds["fired"]] if confounds["available"] else None,
        "ood_p99": ood_summary(m).get("p99"),
        "external_auc": (m.get("external") or {}).get("auc"),
    }


def _labelled(analysis_input) -> tuple[list[tuple[int, int]], list[tuple[str, dict]]]:
    params, collection = analysis_input.params, analysis_input.collection
    if params["label_source"] != "collections":
        rows = selectors.labelled_post_ids(
            collection=collection,
            source=params["label_source"],
            key=params["label_key"],
            positive=params["positive_values"],
        )
        return rows, [("labelled", selectors.collection_fingerprint(collection))]
    rows, used = [], []
    for role, label in (("positive", 1), ("negative", 0)):
        other = Collection.objects.filter(
            pk=params[f"{role}_collection"], investigation=analysis_input.investigation
        ).first()
        if other is None:
            raise JobError(f"The {role} collection was deleted before the training ran.")
        rows += selectors.labelled_post_ids(collection=other, source="collections", label=label)
        used.append((role, selectors.collection_fingerprint(other)))
    return rows, used


def _sample(rows: list[tuple[int, int]], max_posts: int, seed: int) -> list[tuple[int, int]]:
    """At most ``max_posts`` rows, up to half of them from each class (the smaller class gives the rest
    to the larger), picked by a seeded generator."""
    import numpy as np

    if len(rows) <= max_posts:
        return rows
    by_class = {c: [r for r in rows if r[1] == c] for c in (0, 1)}
    small = min(by_class, key=lambda c: len(by_class[c]))
    take = {small: min(len(by_class[small]), max_posts // 2)}
    take[1 - small] = max_posts - take[small]
    rng = np.random.default_rng(seed)
    picked = []
    for c, n in take.items():
        index = rng.choice(len(by_class[c]), size=n, replace=False)
        picked += [by_class[c][i] for i in sorted(index)]
    return sorted(picked)


def max_length_choice(params: dict, texts: list[str]) -> dict:
    """The tokens per post the model reads: the analyst's number, or (blank) auto: 64, or 128 where more than
    ``ml.text.lengths.LONG_SHARE`` of these posts are longer than 64 tokens with the model's own tokenizer."""
    from ml.text.lengths import choose_max_length

    if params.get("max_length") is not None:
        choice = {"max_length": params["max_length"], "auto": False, "reason": "set by hand"}
    else:
        gpt2 = params["model"] == "gpt2"
        # GPT2Classifier reads [BOS] text [CLS], adding both itself; an encoder's tokenizer adds [CLS] and [SEP].
        choice = choose_max_length(texts, _tokenizer(params, texts), extra_tokens=2 if gpt2 else None)
    positions = _positions(params)
    if positions is not None and choice["max_length"] > positions:  # the model reads no further than this
        choice = {**choice, "max_length": positions, "cut_from": choice["max_length"],
                  "reason": f"{choice['reason']}; cut from {choice['max_length']} to the model's {positions} positions"}
    return choice


def _positions(params: dict) -> int | None:
    """How many tokens the base model has positions for, where a base directory is named: a small local model may
    hold fewer than ``max_length``. None where unknown (the bundled MiniLM has 512)."""
    from ml.text.models import directory_positions

    return directory_positions(params["base_dir"]) if params.get("base_dir") else None


def _tokenizer(params: dict, texts: list[str]):
    """The tokenizer the model will read the posts with: its base directory's, the bundled MiniLM's, or, for a tiny
    GPT-2 from scratch, a BPE trained on these posts (as ``fit`` trains its own on the training split)."""
    from ml.text import TINY_GPT2, bundled_encoder_directory, train_bpe_tokenizer
    from ml.text.lengths import directory_tokenizer

    if params["base_dir"]:
        return directory_tokenizer(params["base_dir"])
    if params["model"] == "gpt2":
        return train_bpe_tokenizer(texts, TINY_GPT2.tiny.vocab_size)
    return directory_tokenizer(bundled_encoder_directory())


def _classifier(params: dict):
    from ml.text import CPU, TINY_GPT2, EncoderClassifier, GPT2Classifier
    from ml.text.config import TrainConfig

    base = TINY_GPT2 if params["model"] == "gpt2" else CPU
    train = TrainConfig(
        learning_rate=params["learning_rate"],
        epochs=params["epochs"],
        batch_size=params["batch_size"],
        weight_decay=base.train.weight_decay,
        grad_clip=base.train.grad_clip,
        patience=base.train.patience,
        seed=params["seed"],
    )
    config = type(base).from_dict(
        {
            **base.as_dict(),
            "max_length": params["max_length"],
            "threshold_goal": params.get("threshold_goal", "f1"),
            "target_precision": params.get("target_precision", TARGET_PRECISION_DEFAULT),
            "train": train.__dict__,
        }
    )
    cls = GPT2Classifier if params["model"] == "gpt2" else EncoderClassifier
    return cls(model_dir=params["base_dir"] or None, config=config)


def text_model_store(analysis, *, kind: str, params: dict | None = None) -> TextModel:
    """The TextModel row of a training analysis, then its staged weights moved into place; inside the
    Analysis's transaction, so a failure here rolls both back. Pops ``staging_dir`` from the result. ``params``:
    the model's settings where the run chose some (max_length auto); blank, the analysis's own."""
    result, params = analysis.result, analysis.params if params is None else params
    model = TextModel.objects.create(
        investigation=analysis.investigation, name=params["name"], kind=kind, base_model=result["base_model"],
        params=params, training=result["training"], metrics=result["metrics"], split=result["split"],
        history=result["history"], job=analysis.job, created_by=analysis.created_by,
    )
    model.weights_dir.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(result.pop("staging_dir"), model.weights_dir)
    return model


def staged_cleanup(job) -> None:
    """A failed training job's staged weights, and its TextModel row if the worker died after writing it."""
    shutil.rmtree(staging_dir(job), ignore_errors=True)
    for model in TextModel.objects.filter(job=job):
        shutil.rmtree(model.weights_dir, ignore_errors=True)
        model.delete()


def text_model_context(analysis) -> dict:
    model = TextModel.objects.filter(pk=analysis.result.get("text_model_id")).first()
    return {"text_model": model, "calibration": calibration_summary(model.metrics) if model else {},
            "external": external_summary(model.metrics) if model else {"available": False},
            "confounds": confound_summary(model.metrics) if model else {"available": False}}


def _epoch_seconds(times: list) -> list:
    return [t.timestamp() if t is not None else None for t in times]


def confound_check(classifier, data: dict, labels: list[int], params: dict, collections: list) -> tuple[dict, dict]:
    """(baselines, confound checks) on the classifier's own split: majority, TF-IDF + LR and the topic probe
    trained on its training posts and measured on its test posts; the checks on every post read (ml.text.baselines).
    The probe predicts the label source: the collection a post came from (two collections) or its label, the
    same 0/1 either way, since each class is then one collection."""
    from ml.text.baselines import baselines, confound_checks

    base = baselines(data["text"], labels, classifier.split_index_, groups=data["group"])
    by_collection = params["label_source"] == "collections"
    base["probe_target"] = "the collection a post came from" if by_collection else "the label"
    names = {role: c["name"] for role, c in collections}
    checks = confound_checks(
        model_auc=classifier.metrics_.get("auc"), probe=base["topic_probe"], labels=labels, groups=data["group"],
        times=_epoch_seconds(data["time"]),
        collections=(names["negative"], names["positive"]) if by_collection else None,
        class_names=(names["negative"], names["positive"]) if by_collection else ("control", "IO"),
    )
    return base, checks


def _external_posts(analysis_input) -> tuple[list[tuple[int, int]], list[dict]]:
    """(post id, label) of the external pair's posts, and the collections' names: the training's labels read from
    the collection(s) the analyst named to validate on."""
    params, investigation = analysis_input.params, analysis_input.investigation
    rows, named = [], []
    if params.get("validate_collection"):
        other = Collection.objects.filter(pk=params["validate_collection"], investigation=investigation).first()
        if other is None:
            raise JobError("The collection to validate on was deleted before the training ran.")
        rows = selectors.labelled_post_ids(collection=other, source=params["label_source"], key=params["label_key"],
                                           positive=params["positive_values"])
        return rows, [{"role": "labelled", "id": other.pk, "name": other.name}]
    for role, label in (("positive", 1), ("negative", 0)):
        other = Collection.objects.filter(pk=params[f"validate_{role}_collection"], investigation=investigation).first()
        if other is None:
            raise JobError(f"The external {role} collection was deleted before the training ran.")
        rows += selectors.labelled_post_ids(collection=other, source="collections", label=label)
        named.append({"role": role, "id": other.pk, "name": other.name})
    return rows, named


def external_validation(classifier, analysis_input) -> dict | None:
    """The model on the external pair (posts the training never read; sampled as the training is): AUC, F1,
    precision, recall at the model's threshold, ECE before and after T, the share beyond the training range."""
    from ml.text.calibration import held_out_reliability, sigmoid
    from ml.text.metrics import classification_metrics

    params = analysis_input.params
    if not (params.get("validate_collection") or params.get("validate_positive_collection")):
        return None
    rows, named = _external_posts(analysis_input)
    picked = _sample(rows, params["max_posts"], params["seed"] + 1)
    labels = [label for _, label in sorted(picked)]
    if len(set(labels)) < 2:
        return {"collections": named, "posts": len(labels),
                "error": "the external posts hold one class only: AUC and F1 cannot be measured"}
    data = selectors.post_texts(post_ids=[pk for pk, _ in picked])
    label_of = dict(picked)
    labels = [label_of[pk] for pk in data["post_id"]]
    logits, distances = classifier.logits_and_distances(data["text"])
    scores = sigmoid(logits / classifier.temperature_)
    m = classification_metrics(labels, scores, classifier.decision_threshold)
    ece = held_out_reliability(logits, labels, classifier.temperature_)
    return {"collections": named, "posts": len(labels), "positives": int(sum(labels)),
            **{k: m.get(k) for k in ("n", "auc", "f1", "precision", "recall", "accuracy", "threshold")},
            "ece_before": ece["ece_before"], "ece_after": ece["ece_after"],
            "unreliable_share": None if distances is None else float(classifier.ood_.unreliable(distances).mean())}


def staging_dir(job) -> Path:
    return Path(settings.MEDIA_ROOT) / "models" / f"staging-job-{job.pk}"


class TrainClassifier(Kind):
    name, label = "train_classifier", "Text classifier training"
    params = (
        Param("name", TEXT, "", "Blank: named after its labels and collection.", max_length=200),
        Param(
            "label_source",
            CHOICE,
            "account_label",
            "Where the labels come from.",
            choices=SOURCES,
            choice_labels={
                "account_label": "an account label",
                "post_label": "a post label",
                "collections": "two collections (positive vs negative)",
            },
        ),
        Param("label_key", TEXT, "", "e.g. account_category (account label) or veracity (post label).", max_length=100),
        Param(
            "positive_values",
            LIST,
            (),
            "Comma-separated values that mean IO, e.g. RightTroll,LeftTroll; the other values are the control class.",
            max_items=200,
        ),
        Param(
            "positive_collection",
            INT,
            None,
            "For two collections: the positive one (blank: this one).",
            low=1,
            high=2**63 - 1,
        ),
        Param("negative_collection", INT, None, "For two collections: the negative one.", low=1, high=2**63 - 1),
        Param(
            "model",
            CHOICE,
            "encoder",
            "The model trained.",
            choices=tuple(MODELS),
            choice_labels={
                "encoder": "encoder (bundled MiniLM-L6, fine-tuned)",
                "gpt2": "tiny GPT-2 trained from scratch",
            },
        ),
        Param("base_dir", TEXT, "", "Optional: a local model directory on the server (config.json inside)."),
        Param(
            "max_posts",
            INT,
            MAX_POSTS_DEFAULT,
            "Posts read, at most half a class, sampled with a fixed seed. 2,000 "
            "with MiniLM: about a minute on 2 CPU cores.",
            low=20,
            high=MAX_POSTS_MAX,
        ),
        Param("epochs", INT, None, "Blank: 1 for the encoder, 5 for the tiny GPT-2.", low=1, high=100),
        Param("batch_size", INT, None, "Blank: 16.", low=1, high=512),
        Param(
            "learning_rate", FLOAT, None, "Blank: 5e-5 for the encoder, 1e-3 for the tiny GPT-2.", low=1e-7, high=1.0
        ),
        Param(
            "max_length",
            INT,
            None,
            "Tokens per post. Blank: auto, 128 when more than 10 % of the posts read are longer than 64 tokens "
            "(with the model's own tokenizer), else 64.",
            low=8,
            high=512,
        ),
        Param(
            "threshold_goal",
            CHOICE,
            "f1",
            "What the threshold that flags posts is chosen for, on the validation split.",
            choices=THRESHOLD_GOALS,
            choice_labels={
                "f1": "the best F1",
                "precision": "a precision I set (the most posts found at that precision)",
            },
        ),
        Param(
            "target_precision",
            FLOAT,
            TARGET_PRECISION_DEFAULT,
            "For a precision goal: the share of flagged posts that should be IO on validation.",
            low=0.5,
            high=0.999,
        ),
        Param(
            "validate_collection",
            INT,
            None,
            "Validate on another collection: one that carries the same label (for an account or post label).",
            low=1,
            high=2**63 - 1,
        ),
        Param(
            "validate_positive_collection",
            INT,
            None,
            "Validate on another pair (for two collections): its positive collection.",
            low=1,
            high=2**63 - 1,
        ),
        Param(
            "validate_negative_collection",
            INT,
            None,
            "Validate on another pair: its negative collection.",
            low=1,
            high=2**63 - 1,
        ),
        Param("seed", INT, SEED, "The sample's and the training's seed.", low=0, high=2**31 - 1, form=False),
        Param(
            "score_after", FLAG, False, "Once trained, score every post of this collection with it (a second job)."
        ),
    )

    def validate(self, collection, clean: dict, errors: dict) -> dict:
        """The label source and its values (both classes present), the base directory, the model's defaults."""
        if clean["label_source"] == "collections":
            labels = _collections_check(collection, clean, errors)
        else:
            labels = labels_check(collection, clean, errors)
        model, defaults = clean["model"], DEFAULTS[clean["model"]]
        out = {
            "label_source": clean["label_source"],
            **labels,
            "model": model,
            "base_dir": base_dir_check(clean["base_dir"], model, errors),
            **{k: defaults[k] if clean[k] is None else clean[k] for k in ("epochs", "batch_size", "learning_rate")},
            "max_length": clean["max_length"],
            "threshold_goal": clean["threshold_goal"],
            "target_precision": clean["target_precision"],
            "max_posts": clean["max_posts"],
            "seed": clean["seed"],
            **_external_check(collection, {**clean, **labels},
                              {k: v for k, v in labels.items() if k.endswith("_collection")}, errors),
            "score_after": clean["score_after"],
        }
        if not errors:
            out["name"] = clean["name"] or _default_name(collection, out)
        return out

    def run(self, analysis_input, progress) -> tuple[dict, dict]:
        """1. read the labelled post ids and sample them; 2. read their texts; 3. the tokens per post (blank: auto,
        from these posts' lengths); 4. train (account-disjoint split, progress per step; then T and the threshold
        fitted on the validation split); 5. save the weights to a staging directory; 6. the result."""
        from ml.text import TextModelError

        params = analysis_input.params
        progress(0.0, "Reading the labelled posts", force=True)
        rows, collections = _labelled(analysis_input)
        picked = _sample(rows, params["max_posts"], params["seed"])
        data = selectors.post_texts(post_ids=[pk for pk, _ in picked])
        label_of = dict(picked)
        labels = [label_of[pk] for pk in data["post_id"]]
        progress.provenance(
            inputs=[{**c, "role": role} for role, c in collections],
            model={"kind": params["model"], "base": params["base_dir"] or MODELS[params["model"]]},
        )
        if params.get("max_length") is None:
            progress(0.01, "Measuring the posts' lengths in tokens", force=True)
        try:
            length = max_length_choice(params, data["text"])
        except TextModelError as exc:
            raise JobError(f"The posts' lengths cannot be measured: {exc}.") from None
        classifier = _classifier({**params, "max_length": length["max_length"]})
        progress(0.02, f"Training on {len(labels):,} posts ({sum(labels):,} positive)", force=True)
        def on_step(s):
            return progress(
                0.02 + 0.9 * s["fraction"],
                f"Training: epoch {s['epoch']}, step {s['step']}/{s['total_steps']}, loss {s['train_loss']:.3f}",
            )

        try:
            classifier.fit(data["text"], labels, groups=data["group"], on_step=on_step)
        except TextModelError as exc:
            raise JobError(f"The labelled posts cannot train a model: {exc}.") from None
        test = classifier.test_
        # Temperature, reliability bins and the chosen threshold (validation), ECE on the held-out test.
        classifier.metrics_["calibration"] = classifier.calibration_
        # The training posts' range for the out-of-distribution check (the summary itself is saved with the weights).
        classifier.metrics_["ood"] = getattr(classifier, "ood_report_", None)
        progress(0.92, "Training the baselines and the topic probe on the same split", force=True)
        classifier.metrics_["baselines"], classifier.metrics_["confounds"] = confound_check(
            classifier, data, labels, params, collections
        )
        progress(0.925, "Validating on the external pair", force=True)
        external = external_validation(classifier, analysis_input)
        if external is not None:
            classifier.metrics_["external"] = external
        progress(0.93, "Measuring the int8 scoring mode on the held-out posts", force=True)
        classifier.metrics_["int8"] = _int8_report(classifier, [data["text"][i] for i in test["index"]], test["labels"])
        progress(0.95, "Saving the weights", force=True)
        staging = staging_dir(analysis_input.job)
        shutil.rmtree(staging, ignore_errors=True)
        classifier.save(staging)
        result = {
            "staging_dir": str(staging),
            "model": params["model"],
            "base_model": params["base_dir"] or MODELS[params["model"]],
            "training": [c for _, c in collections],
            "posts": len(labels),
            "positives": int(sum(labels)),
            "rows_labelled": len(rows),
            "sampled": len(rows) > len(picked),
            "max_length": length,
            "metrics": classifier.metrics_,
            "split": classifier.split_,
            "history": classifier.history_,
            # The held-out posts and their scores: the metrics can be recomputed from these.
            "test": {
                "post_id": [data["post_id"][i] for i in test["index"]],
                "labels": test["labels"],
                "scores": test["scores"],
            },
        }
        return result, summary(result)

    def after_create(self, analysis, rows=None) -> dict:
        """Inside the Analysis's transaction: the TextModel row and its weights (``text_model_store``). The
        staging path and the test scores' bulk stay out of the summary."""
        length = analysis.result.get("max_length") or {}
        # The model's params say what it reads: the number the run chose (auto) and why, for its page and scoring.
        chosen = {"max_length": length["max_length"], "max_length_reason": length["reason"]} if length else {}
        model = text_model_store(analysis, kind=analysis.params["model"], params={**analysis.params, **chosen})
        analysis.result = {**analysis.result, "text_model_id": model.pk}
        analysis.summary = {**analysis.summary, "text_model_id": model.pk}
        analysis.save(update_fields=["result", "summary"])
        return analysis.summary

    def cleanup(self, job) -> None:
        staged_cleanup(job)

    def follow_ups(self, analysis) -> list[tuple[str, dict]]:
        if not analysis.params.get("score_after"):
            return []
        return [("score", {"model": analysis.summary["text_model_id"]})]

    def page_context(self, analysis) -> dict:
        return text_model_context(analysis)
