"""What the three spread kinds (``propagation``, ``retweet_network``, ``hashtag_network``;
Trivedi et al., 2021, §4.2 and §5.2) share: their bounded reads of the collection, parameter checks, naming and
colouring a network's nodes, and the virality timeline of one hashtag or domain.

A run reads its columns from the collection's analysis store (``apps.collections.store``): every post and
interaction, unless ``ANALYSIS_ROWS_MAX`` forces a bound (the earliest posts, so sources come before their
reposts; the latest interactions), which the run's inputs and page report. Reads in a request stay
``values_list`` in batches of ``BATCH_ROWS``: ``TIMELINE_CAP`` posts in one timeline. The drawn
network keeps the ``NODES_CAP`` strongest nodes and ``EDGES_CAP`` strongest edges (a WebGL plot stays
interactive at that size); the result says when a cap cut something.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict

from apps.analyses.kinds import network
from apps.analyses.kinds.base import CHOICE, Param
from apps.analyses.selectors import rows_max, store_read
from apps.collections.models import Account, Interaction, Post
from apps.jobs.services import JobError

BATCH_ROWS = 5_000
TIMELINE_CAP = 200_000
NODES_CAP = 5_000
EDGES_CAP = 50_000
_KEY = re.compile(r"^\w{1,60}$")
METHOD_LABELS = {"louvain": "Louvain", "infomap": "InfoMap"}


# Parameters ------------------------------------------------------------------------------------

METHOD = Param("method", CHOICE, "louvain", "How communities are found.", choices=tuple(METHOD_LABELS),
               choice_labels={"louvain": "Louvain", "infomap": "InfoMap (optional extra, AGPL: only if installed)"})


class SpreadNetworkKind(network.NetworkKind):
    """What the retweet and hashtag networks share: the community method, the label key, and their page."""

    prefix, noun = "", ""
    size_keys: dict = {}

    def validate(self, collection, clean: dict, errors: dict) -> dict:
        check_method(clean["method"], errors)
        check_label_key(clean["label_key"], errors)
        return clean

    def communities(self, graph, params: dict, progress) -> dict:
        """Communities, layout and the strongest edges (``ml.graphs.network_report``); InfoMap missing on the
        worker ends the job with its sentence."""
        from ml.graphs import InfomapUnavailable, network_report

        try:
            return network_report(graph, method=params["method"], giant_only=params["giant_only"], edges_cap=EDGES_CAP,
                                  on_progress=lambda f, stage: progress(0.2 + 0.7 * f, stage))
        except InfomapUnavailable as exc:
            raise JobError(str(exc)) from None

    def page_context(self, analysis) -> dict:
        result = analysis.result
        return {
            "report": result,
            "network_plain": True,
            "network_noun": self.noun,
            "network_data": network_data(analysis, prefix=self.prefix, noun=self.noun, size_keys=self.size_keys),
            "method_label": METHOD_LABELS.get(result["method"], result["method"]),
        }


def check_method(method: str, errors: dict) -> None:
    """Louvain, or InfoMap where someone installed it (AGPL-3.0: the product does not ship it)."""
    from ml.graphs import INFOMAP_MISSING, infomap_available

    if method == "infomap" and not infomap_available():
        errors["method"] = INFOMAP_MISSING


def check_label_key(key: str, errors: dict) -> None:
    """A post label key to split by ("" = the most common one on the collection's original posts)."""
    if key and not _KEY.match(key):
        errors["label_key"] = f"label_key must be a label name (letters, digits, _); got {key!r}."


def account_label_key_pick(collection) -> str | None:
    """The most common label key of the collection's accounts (a sample of 500), e.g. the IRA files'
    account_category, for collections whose posts carry no label."""
    sample = Account.objects.filter(collection=collection).exclude(labels={}).values_list("labels", flat=True)[:500]
    keys = Counter(
        k for labels in sample if isinstance(labels, dict) for k, v in labels.items() if isinstance(v, str) and v
    )
    return keys.most_common(1)[0][0] if keys else None


def label_key_pick(collection) -> str | None:
    """The most common label key of the collection's original posts (a sample of 500)."""
    sample = (
        Post.objects.filter(collection=collection, kind=Post.Kind.POST)
        .exclude(labels={})
        .values_list("labels", flat=True)[:500]
    )
    keys = Counter(
        k
        for labels in sample
        if isinstance(labels, dict)
        for k, v in labels.items()
        if isinstance(v, (str, int, float, bool))
    )
    return keys.most_common(1)[0][0] if keys else None


# Reads -----------------------------------------------------------------------------------------


def cascade_posts(*, collection, kinds, label_key: str | None) -> tuple[dict, int, dict]:
    """The posts table of ``ml.graphs.build_cascades`` (times in seconds) and each original post's
    ``label_key`` label, from the collection's analysis store, earliest first. ``build_cascades`` holds a dict per
    row, so memory bounds it: past ``ANALYSIS_ROWS_MAX`` rows the earliest are kept (sources come before their
    reposts), and the third value says what was left out. Posts with no time (text-only imports) have no
    place in a cascade and are left out."""
    import json

    import pyarrow.compute as pc

    from ml import columnar

    where = pc.field("kind").isin(["post", *kinds]) & pc.field("time").is_valid()
    fields = ["id", "platform_id", "account", "kind", "ref_post", "ref_account", "time", "labels"]
    table = store_read(collection, "posts", fields, where)
    table, bound = columnar.bounded(table, rows_max(), keep="earliest")
    table = table.take(pc.sort_indices(table, sort_keys=[("time", "ascending"), ("id", "ascending")]))
    seconds = pc.divide(pc.cast(pc.cast(table["time"], "timestamp[us]"), "int64"), 1e6)
    columns = {"post": table["id"].to_pylist(), "platform_id": table["platform_id"].to_pylist(),
               "account": table["account"].to_pylist(), "kind": table["kind"].to_pylist(),
               "ref_post": table["ref_post"].to_pylist(), "ref_account": table["ref_account"].to_pylist(),
               "time": seconds.to_pylist()}
    labels = [None] * table.num_rows
    if label_key:
        for i, (kind, own) in enumerate(zip(columns["kind"], table["labels"].to_pylist())):
            if kind == "post" and own and own != "{}":
                labels[i] = json.loads(own).get(label_key)
    columns["label"] = labels
    return columns, len(columns["post"]), bound


def _interactions(collection, columns: list[str], where) -> tuple:
    """Interactions from the store, the latest ``ANALYSIS_ROWS_MAX``: (table, what the bound left out)."""
    from ml import columnar

    table = store_read(collection, "interactions", [*columns, "time"], where)
    return columnar.bounded(table, rows_max(), keep="latest")


def account_pairs(*, collection, actions) -> tuple[list, list, int, dict]:
    """(source, target) account pks of every repost/quote/reply interaction, from the analysis store; the count;
    what ``ANALYSIS_ROWS_MAX`` left out."""
    import pyarrow.compute as pc

    where = pc.field("action").isin(list(actions)) & pc.field("target_account").is_valid()
    table, bound = _interactions(collection, ["account", "target_account"], where)
    return table["account"].to_pylist(), table["target_account"].to_pylist(), table.num_rows, bound


def post_hashtags(*, collection) -> tuple[list, list, int, dict]:
    """(post pk, hashtag) of every hashtag interaction, from the analysis store; the count; what
    ``ANALYSIS_ROWS_MAX`` left out."""
    import pyarrow.compute as pc

    where = (pc.field("action") == "hashtag") & pc.field("target").is_valid()
    table, bound = _interactions(collection, ["post", "target"], where)
    return table["post"].to_pylist(), table["target"].to_pylist(), table.num_rows, bound


def left_out_inputs(bound: dict) -> dict:
    """What a run's ``inputs`` (and so its page) say about rows a memory bound left out."""
    if not bound.get("rows_left_out"):
        return {}
    return {"rows_left_out": bound["rows_left_out"],
            "left_out_before": bound.get("left_out_before"), "left_out_after": bound.get("left_out_after")}


def accounts_facts(*, collection, account_ids) -> dict[int, dict]:
    """{pk: {"handle", "labels", "followers"}} in batches."""
    out, ids = {}, list(account_ids)
    for start in range(0, len(ids), BATCH_ROWS):
        rows = Account.objects.filter(collection=collection, pk__in=ids[start : start + BATCH_ROWS])
        for pk, handle, platform_id, labels, followers in rows.values_list(
            "id", "handle", "platform_id", "labels", "followers"
        ):
            out[pk] = {"handle": handle or platform_id, "labels": labels or {}, "followers": followers}
    return out


def majority_post_label(*, collection, label_key: str, account_ids=None, hashtags=None) -> dict:
    """The most common ``label_key`` of the posts each account wrote or each hashtag marks (Trivedi et al.,
    figure 5 colours accounts by the veracity of what they spread), from every labelled post in the analysis store."""
    import json

    import pyarrow as pa
    import pyarrow.compute as pc

    votes: dict = defaultdict(Counter)
    posts = store_read(collection, "posts", ["id", "account", "labels"], pc.field("labels") != "{}")
    post_label: dict = {}
    for pk, owner, own in zip(*(posts[c].to_pylist() for c in ("id", "account", "labels"))):
        value = json.loads(own).get(label_key) if own else None
        if value not in (None, ""):
            post_label[pk] = (owner, str(value))
    if account_ids is not None:
        wanted = set(account_ids)
        for owner, value in post_label.values():
            if owner in wanted:
                votes[owner][value] += 1
    if hashtags is not None and post_label:
        where = (pc.field("action") == "hashtag") & pc.field("target").isin(pa.array(list(hashtags), pa.string()))
        rows = store_read(collection, "interactions", ["post", "target"], where)
        for pk, tag in zip(rows["post"].to_pylist(), rows["target"].to_pylist()):
            if pk in post_label:
                votes[tag][post_label[pk][1]] += 1
    return {owner: counts.most_common(1)[0][0] for owner, counts in votes.items()}


# Networks --------------------------------------------------------------------------------------


def network_result(
    report: dict, *, names: dict, labels: dict, prefix: str, label_key: str | None, inputs: dict
) -> dict:
    """The page's and the exports' shape (``network.js``): nodes named, labelled and compacted;
    communities with their largest members and their make-up by label."""
    nodes = []
    for n in report["nodes"]:
        own = dict(labels.get(n["id"], {}))
        nodes.append({**n, "id": n["id"], "handle": names.get(n["id"], str(n["id"])), "labels": own})
    label_keys = sorted(
        {k for n in nodes for k, v in n["labels"].items() if isinstance(v, (str, int, bool)) and v != ""}
    )
    by_id = {n["id"]: n for n in nodes}
    communities = []
    for c in report["communities"][: network.COMMUNITIES_CAP]:
        members = sorted((by_id[m] for m in c["members"]), key=lambda n: -n["strength"])
        make_up = {k: dict(Counter(str(n["labels"].get(k, "—")) for n in members).most_common(6)) for k in label_keys}
        communities.append(
            {
                "community": c["community"],
                "size": c["size"],
                "make_up": make_up,
                "members": [f"{prefix}{n['handle']}" for n in members[:12]],
            }
        )
    return {
        "nodes": network.compact(nodes),
        "edges": network.compact(report["edges"]),
        "edges_stored": len(report["edges"]),
        "edges_total": report["edges_total"],
        "communities": communities,
        "communities_total": len(report["communities"]),
        "modularity": round(report["modularity"], 4),
        "method": report["method"],
        "layout": report["layout"],
        "giant_size": report["giant_size"],
        "directed": report["directed"],
        "label_keys": label_keys,
        "label_key": label_key,
        "counts": {},
        "inputs": inputs,
        "timings": {k: round(v, 3) for k, v in report["timings"].items()},
    }


def network_data(analysis, *, prefix: str, noun: str, size_keys: dict) -> dict:
    """The json_script "network-data" of ``network.js`` for a spread network."""
    result = analysis.result
    shared = f"posts_{result.get('label_key')}"
    return {
        "colour_default": f"label:{shared}" if shared in result["label_keys"] else None,
        "kind": analysis.kind,
        "nodes": result["nodes"],
        "edges": result["edges"],
        "type_edges": {},
        "counts": {},
        "rule": "all",
        "label_keys": result["label_keys"],
        "timelines": [],
        "before_after": None,
        "prefix": prefix,
        "noun": noun,
        "size_keys": list(size_keys),
        "size_keys_labels": size_keys,
        "directed": result["directed"],
    }


# Timelines -------------------------------------------------------------------------------------


def entity_timeline(*, collection, kind: str, value: str, label_key: str | None, freq: str) -> dict:
    """Posts per hour or day using one hashtag or domain, split by the post label ``label_key`` or,
    where the posts carry none, by the posting account's most common label (e.g. IRA's
    account_category); bursts flagged. At most ``TIMELINE_CAP`` uses, the latest."""
    from ml.graphs import BurstConfig, timeline, timeline_figure

    account_key = None if label_key else account_label_key_pick(collection)
    rows = Interaction.objects.filter(collection=collection, action=kind, target_entity__value=value).order_by("-time")
    times, labels = [], []
    for when, own, account in rows.values_list("time", "post__labels", "source_account__labels")[
        :TIMELINE_CAP
    ].iterator(chunk_size=BATCH_ROWS):
        times.append(when)
        labels.append(
            (own or {}).get(label_key) if label_key else (account or {}).get(account_key) if account_key else None
        )
    line = timeline(times, labels, BurstConfig(freq=freq, window=24 if freq == "hour" else 14))
    marker = "#" if kind == "hashtag" else ""
    return {
        "entity": f"{marker}{value}",
        "kind": kind,
        "posts": len(times),
        "truncated": len(times) >= TIMELINE_CAP,
        "split_by": label_key or (account_key and f"account {account_key}"),
        "bursts": line["bursts"],
        "figure": timeline_figure(line, title=f"{marker}{value}: posts per {freq}"),
    }


def top_domains(*, collection, limit: int = 30) -> list[dict]:
    """The most used domains (for the timeline picker), from the collection's overview when it has them."""
    from django.db.models import Count

    rows = (
        Interaction.objects.filter(collection=collection, action="domain", target_entity__isnull=False)
        .values("target_entity__value")
        .annotate(n=Count("id"))
        .order_by("-n")[:limit]
    )
    return [{"value": r["target_entity__value"], "count": r["n"]} for r in rows]
