"""The overview's figures, read as data: what goes in is what Plotly gets."""
from __future__ import annotations

import json

import plotly.graph_objects as go

from apps.collections import charts


def valid(figure: dict) -> dict:
    """Plotly accepts the dict (unknown properties raise) and it survives JSON."""
    go.Figure(figure)
    return json.loads(json.dumps(figure))


def test_posts_per_day_is_a_line_of_the_counts():
    per_day = [["2016-10-01", 3], ["2016-10-02", 0], ["2016-10-03", 7]]
    figure = valid(charts.posts_per_day_figure(per_day))
    (trace,) = figure["data"]
    assert trace["type"] == "scatter" and trace["mode"] == "lines"
    assert trace["x"] == ["2016-10-01", "2016-10-02", "2016-10-03"]
    assert trace["y"] == [3, 0, 7]
    assert figure["layout"]["xaxis"]["type"] == "date"


def test_posts_per_day_of_nothing_is_an_empty_line():
    (trace,) = valid(charts.posts_per_day_figure([]))["data"]
    assert trace["x"] == [] and trace["y"] == []


def test_top_bars_put_the_largest_at_the_top():
    pairs = [["maga", 50], ["news", 20], ["blacklivesmatter", 5]]
    figure = valid(charts.top_bar_figure(pairs, title="Top hashtags"))
    (trace,) = figure["data"]
    assert trace["type"] == "bar" and trace["orientation"] == "h"
    # Plotly draws the first category lowest, so the list is reversed.
    assert trace["y"] == ["blacklivesmatter", "news", "maga"]
    assert trace["x"] == [5, 20, 50]
    assert figure["layout"]["title"]["text"] == "Top hashtags"


def test_top_accounts_use_handles_and_post_counts():
    accounts = [{"id": 1, "handle": "TEN_GOP", "posts": 9}, {"id": 2, "handle": "Pamela_Moore13", "posts": 4}]
    (trace,) = valid(charts.top_accounts_figure(accounts))["data"]
    assert trace["y"] == ["Pamela_Moore13", "TEN_GOP"]
    assert trace["x"] == [4, 9]


def test_the_pie_orders_categories_by_count():
    (trace,) = valid(charts.counts_pie_figure({"repost": 2, "post": 10, "reply": 2}, title="Post kinds"))["data"]
    assert trace["type"] == "pie"
    assert trace["labels"] == ["post", "reply", "repost"]
    assert trace["values"] == [10, 2, 2]


def test_label_distributions_give_one_chart_per_key():
    labels = {
        "account": {"category": {"RightTroll": 3, "LeftTroll": 5}},
        "post": {"language": {"English": 10}, "batch": {"1": 2}},
    }
    figures = charts.label_distribution_figures(labels)
    assert [(f["scope"], f["key"]) for f in figures] == [
        ("account", "category"),
        ("post", "batch"),
        ("post", "language"),
    ]
    (trace,) = valid(figures[0]["figure"])["data"]
    assert trace["y"] == ["RightTroll", "LeftTroll"] and trace["x"] == [3, 5]


def test_label_distributions_keep_the_top_values():
    values = {f"v{i}": i for i in range(1, 31)}
    (figure,) = charts.label_distribution_figures({"post": {"k": values}}, top=5)
    assert figure["figure"]["data"][0]["x"] == [26, 27, 28, 29, 30]


def test_no_labels_give_no_charts():
    assert charts.label_distribution_figures({}) == []
    assert charts.label_distribution_figures({"account": {}, "post": {}}) == []
