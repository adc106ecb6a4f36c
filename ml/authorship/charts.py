"""Plotly figures as plain dicts (data in, figure out); the page only embeds the JSON."""
from __future__ import annotations

COLOURS = {"words": "#1f77b4", "chars": "#d62728"}


def learning_curve_figure(report: dict) -> dict:
    """The seed's learning curves, one pair (training dashed, cross-validated solid) per method,
    side by side on one axis so an analyst sees which method learns this account better."""
    traces = []
    for name, result in report["methods"].items():
        points = result.get("learning_curve")
        if not points:
            continue
        colour = COLOURS.get(name)
        traces.append({"type": "scatter", "mode": "lines+markers", "name": f"{name} training", "x": points["sizes"],
                       "y": points["train"], "line": {"dash": "dash", "color": colour}})
        traces.append({"type": "scatter", "mode": "lines+markers", "name": f"{name} cross-validation",
                       "x": points["sizes"], "y": points["cv"], "line": {"color": colour},
                       "error_y": {"type": "data", "array": points["cv_std"], "visible": True}})
    return {"data": traces, "layout": {
        "title": {"text": f"Learning curves for @{report['account']} (chosen: {report['chosen']})"},
        "xaxis": {"title": {"text": "training posts"}}, "yaxis": {"title": {"text": "accuracy"}, "range": [0.4, 1.01]}}}
