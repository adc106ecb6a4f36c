"""Plotly figures for the collection overview: pure functions, data in, figure dict out.

No Django and no I/O here: a view passes parts of ``Collection.stats`` and embeds the returned dicts
with ``json_script``; ``static/js/charts.js`` hands them to ``Plotly.newPlot``. Tests read them as data.
"""
from __future__ import annotations

ACCENT = "#2563eb"
PALETTE = ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#06b6d4", "#ec4899", "#84cc16", "#64748b"]
FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12, "color": "#1f2937"}


def _layout(title: str, **extra) -> dict:
    layout = {
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 14}},
        "font": FONT,
        "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "hovermode": "closest",
    }
    layout.update(extra)
    return layout


def posts_per_day_figure(posts_per_day: list) -> dict:
    """Posts per day as a filled line: ``[[iso_date, n], ...]`` in date order."""
    days = [day for day, _ in posts_per_day]
    counts = [n for _, n in posts_per_day]
    trace = {
        "type": "scatter",
        "mode": "lines",
        "x": days,
        "y": counts,
        "name": "posts",
        "line": {"color": ACCENT, "width": 1.5},
        "fill": "tozeroy",
        "fillcolor": "rgba(37,99,235,0.15)",
        "hovertemplate": "%{x}<br>%{y:,} posts<extra></extra>",
    }
    layout = _layout(
        "Posts per day",
        xaxis={"type": "date", "gridcolor": "#e5e7eb"},
        yaxis={"title": {"text": "posts"}, "rangemode": "tozero", "gridcolor": "#e5e7eb"},
        hovermode="x unified",
    )
    return {"data": [trace], "layout": layout}


def top_bar_figure(pairs: list, *, title: str, value_name: str = "posts") -> dict:
    """A horizontal bar chart of ``[[label, n], ...]`` (largest first), largest bar at the top."""
    labels = [str(label) for label, _ in pairs]
    counts = [n for _, n in pairs]
    trace = {
        "type": "bar",
        "orientation": "h",
        # Plotly draws the first category at the bottom: reverse so the list order reads top-down.
        "y": labels[::-1],
        "x": counts[::-1],
        "marker": {"color": ACCENT},
        "hovertemplate": "%{y}: %{x:,} " + value_name + "<extra></extra>",
    }
    height = max(160, 40 + 22 * len(labels))
    layout = _layout(
        title,
        height=height,
        margin={"l": 140, "r": 20, "t": 40, "b": 30},
        yaxis={"automargin": True, "type": "category"},
        xaxis={"rangemode": "tozero", "gridcolor": "#e5e7eb"},
    )
    return {"data": [trace], "layout": layout}


def top_accounts_figure(top_accounts: list) -> dict:
    """Top accounts by posts: ``[{"id", "handle", "posts"}, ...]``."""
    return top_bar_figure([[a["handle"], a["posts"]] for a in top_accounts], title="Top accounts by posts")


def counts_pie_figure(counts: dict, *, title: str) -> dict:
    """A donut of ``{category: n}`` (e.g. post kinds), largest category first."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    trace = {
        "type": "pie",
        "labels": [str(k) for k, _ in items],
        "values": [n for _, n in items],
        "hole": 0.45,
        "marker": {"colors": [PALETTE[i % len(PALETTE)] for i in range(len(items))]},
        "sort": False,
        "textinfo": "label+percent",
        "hovertemplate": "%{label}: %{value:,}<extra></extra>",
    }
    return {"data": [trace], "layout": _layout(title, height=300, showlegend=False)}


def label_distribution_figures(labels: dict, *, top: int = 20) -> list[dict]:
    """One bar chart per label key: ``{"account": {key: {value: n}}, "post": {...}}``.

    Returns ``[{"scope", "key", "figure"}, ...]`` for account labels first, then post labels; each
    chart keeps the ``top`` most frequent values.
    """
    out = []
    for scope, noun in (("account", "accounts"), ("post", "posts")):
        for key, values in sorted((labels or {}).get(scope, {}).items()):
            pairs = sorted(values.items(), key=lambda kv: (-kv[1], str(kv[0])))[:top]
            figure = top_bar_figure(
                [list(p) for p in pairs], title=f"{scope.capitalize()} label: {key}", value_name=noun
            )
            out.append({"scope": scope, "key": key, "figure": figure})
    return out
