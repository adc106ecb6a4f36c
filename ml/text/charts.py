"""Plotly figures as plain dicts (data in, figure out); the page only embeds the JSON."""
from __future__ import annotations


def _axes(x: str, y: str, **extra) -> dict:
    return {"xaxis": {"title": {"text": x}}, "yaxis": {"title": {"text": y}}, **extra}


def roc_figure(metrics: dict) -> dict:
    roc = metrics["roc"]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"ROC (AUC {metrics['auc']:.3f})",
                "x": roc["fpr"],
                "y": roc["tpr"],
                "line": {"color": "#d62728"},
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": "chance",
                "x": [0, 1],
                "y": [0, 1],
                "line": {"dash": "dash", "color": "#7f7f7f"},
            },
        ],
        "layout": {
            "title": {"text": "ROC on the held-out split"},
            **_axes("false positive rate", "true positive rate"),
        },
    }


def precision_recall_figure(metrics: dict) -> dict:
    pr = metrics["pr"]
    base = metrics["positives"] / metrics["n"]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"precision-recall (AP {metrics['average_precision']:.3f})",
                "x": pr["recall"],
                "y": pr["precision"],
                "line": {"color": "#1f77b4"},
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": "chance",
                "x": [0, 1],
                "y": [base, base],
                "line": {"dash": "dash", "color": "#7f7f7f"},
            },
        ],
        "layout": {"title": {"text": "Precision-recall on the held-out split"}, **_axes("recall", "precision")},
    }


def confusion_figure(metrics: dict, labels=("control", "IO")) -> dict:
    matrix = metrics["confusion"]["matrix"]
    return {
        "data": [
            {
                "type": "heatmap",
                "z": matrix,
                "x": [f"predicted {label}" for label in labels],
                "y": [f"actual {label}" for label in labels],
                "colorscale": "Blues",
                "text": matrix,
                "texttemplate": "%{text}",
                "showscale": False,
            }
        ],
        "layout": {
            "title": {"text": f"Confusion matrix at threshold {metrics['threshold']:.2f}"},
            "yaxis": {"autorange": "reversed"},
        },
    }


def loss_figure(history: dict) -> dict:
    """Training loss per step and validation loss per evaluation, on one axis."""
    traces = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "training loss",
            "x": [p["step"] for p in history["train"]],
            "y": [p["loss"] for p in history["train"]],
        }
    ]
    if history.get("val"):
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "validation loss",
                "x": [p["step"] for p in history["val"]],
                "y": [p["loss"] for p in history["val"]],
            }
        )
    return {"data": traces, "layout": {"title": {"text": "Loss history"}, **_axes("step", "loss")}}


def perplexity_matrix_figure(matrix: dict) -> dict:
    """docs/methods.md §language models, paper fig. 4: rows are language models, columns held-out posts; lower is
    better."""
    z = matrix["perplexity"]
    text = [[f"{v:.1f}" for v in row] for row in z]
    return {
        "data": [
            {
                "type": "heatmap",
                "z": z,
                "x": matrix["columns"],
                "y": matrix["rows"],
                "text": text,
                "texttemplate": "%{text}",
                "colorscale": "Viridis",
                "reversescale": True,
                "colorbar": {"title": {"text": f"perplexity per {matrix['unit']}"}},
            }
        ],
        "layout": {
            "title": {"text": "Cross-perplexity: language model × held-out posts"},
            **_axes(
                "held-out posts of",
                "language model",
                yaxis={"autorange": "reversed", "title": {"text": "language model"}},
            ),
        },
    }


def attention_figure(attention: dict, layer: int | None = None, head: int | None = None) -> dict:
    """Inline token heatmap: attention from the source token ([CLS] or the last token) to every token,
    one row per layer and head, or the average when `layer`/`head` is None."""
    rows, labels = [], []
    for li, layer_rows in enumerate(attention["from_source"]):
        if layer is not None and li != layer:
            continue
        if head is None:
            rows.append([round(sum(col) / len(col), 3) for col in zip(*layer_rows)])
            labels.append(f"layer {li} (mean)")
            continue
        rows.append(layer_rows[head])
        labels.append(f"layer {li} head {head}")
    return {
        "data": [
            {
                "type": "heatmap",
                "z": rows,
                "x": list(range(len(attention["tokens"]))),
                "y": labels,
                "customdata": [attention["tokens"]] * len(rows),
                "hovertemplate": "%{customdata}: %{z}<extra>%{y}</extra>",
                "colorscale": "Reds",
            }
        ],
        "layout": {
            "title": {"text": f"Attention from {attention['source_token']}"},
            "xaxis": {
                "tickmode": "array",
                "tickvals": list(range(len(attention["tokens"]))),
                "ticktext": attention["tokens"],
            },
            "yaxis": {"autorange": "reversed"},
        },
    }


def account_scores_figure(accounts: list[dict], limit: int = 30) -> dict:
    top = accounts[:limit]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "x": [a["mean"] for a in top],
                "y": [a["account"] for a in top],
                "name": "mean score",
            }
        ],
        "layout": {
            "title": {"text": "Accounts by mean score"},
            "yaxis": {"autorange": "reversed"},
            "xaxis": {"title": {"text": "mean P(IO)"}, "range": [0, 1]},
        },
    }


def reliability_figure(calibration: dict) -> dict:
    """The reliability diagram (ml.text.calibration): per bin of P(IO), the share of IO posts against the
    mean score, before and after temperature scaling, on the held-out test split when it was measured
    (T was fitted on validation), else on validation. A calibrated model lies on the diagonal."""
    held_out = calibration.get("test")
    source, where = (held_out, "held-out test") if held_out else (calibration, "validation")

    def trace(bins, name, color, dash=None):
        kept = [b for b in bins if b["count"]]
        return {
            "type": "scatter",
            "mode": "lines+markers",
            "name": name,
            "x": [b["confidence"] for b in kept],
            "y": [b["accuracy"] for b in kept],
            "customdata": [[b["count"], b["low"], b["high"]] for b in kept],
            "hovertemplate": "score %{customdata[1]:.1f}–%{customdata[2]:.1f}: %{customdata[0]} posts<br>"
            "mean P(IO) %{x:.3f}, share IO %{y:.3f}<extra>%{fullData.name}</extra>",
            "line": {"color": color, **({"dash": dash} if dash else {})},
        }

    t = calibration["temperature"]
    return {
        "data": [
            trace(source["bins_before"], f"before (ECE {source['ece_before']:.3f})", "#7f7f7f", "dot"),
            trace(source["bins_after"], f"after T = {t:.2f} (ECE {source['ece_after']:.3f})", "#d62728"),
            {
                "type": "scatter",
                "mode": "lines",
                "name": "calibrated",
                "x": [0, 1],
                "y": [0, 1],
                "line": {"dash": "dash", "color": "#bbbbbb"},
                "hoverinfo": "skip",
            },
        ],
        "layout": {
            "title": {"text": f"Reliability on the {where} split"},
            "xaxis": {"title": {"text": "mean P(IO) in the bin"}, "range": [0, 1]},
            "yaxis": {"title": {"text": "share of IO posts in the bin"}, "range": [0, 1]},
        },
    }
