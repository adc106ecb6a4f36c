"""Plotly figure dicts from pure data (no plotly import): the window sweep."""
from __future__ import annotations

import pandas as pd


def sweep_figure(sweep: pd.DataFrame, *, significant: bool = True) -> dict:
    """Edges and accounts kept per window (log x axis), one line pair per action."""
    prefix = "significant_" if significant else ""
    traces = []
    for action, rows in sweep.groupby("action", sort=False):
        rows = rows.sort_values("window")
        for what, dash in (("edges", "solid"), ("accounts", "dot")):
            traces.append({"type": "scatter", "mode": "lines+markers", "name": f"{action} {what}",
                           "x": rows["window"].tolist(), "y": rows[prefix + what].tolist(), "line": {"dash": dash}})
    return {"data": traces, "layout": {"xaxis": {"type": "log", "title": "window (s)"},
                                       "yaxis": {"title": "kept"}, "title": "Co-action window sweep"}}
