"""What the three spread kinds (``propagation``, ``retweet_network``, ``hashtag_network``;
Trivedi et al., 2021, §4.2 and §5.2) share: their bounded reads of the collection, parameter checks, naming and
colouring a network's nodes, and the virality timeline of one hashtag or domain.

Every read is ``values_list`` in batches of ``BATCH_ROWS``, capped so one job stays within a few
hundred MB: at most ``POSTS_CAP`` posts (the earliest, so sources come before their reposts),
``INTERACTIONS_CAP`` interactions (the latest), ``TIMELINE_CAP`` posts in one timeline. The drawn
network keeps the ``NODES_CAP`` strongest nodes and ``EDGES_CAP`` strongest edges (a WebGL plot stays
interactive at that size); the result says when a cap cut something.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict

from apps.analyses.kinds import network
from apps.analyses.kinds.base import CHOICE, Param
from apps.collections.models import Account, Interaction, Post
from apps.jobs.services import JobError

BATCH_ROWS = 5_000
POSTS_CAP = 600_000
INTERACTIONS_CAP = 2_000_000
TIMELINE_CAP = 200_000
NODES_CAP = 5_000
EDGES_CAP = 50_000
LABEL_OWNERS_CAP = 500_000   # posts read to colour accounts/hashtags by the labels of what they shared
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


def cascade_posts(*, collection, kinds, label_key: str | None) -> tuple[dict, int]:
    """The posts table of ``ml.graphs.build_cascades`` (times in seconds) and each original post's
    ``label_key`` label. At most ``POSTS_CAP`` rows, the earliest. Labels are read whole and only for
    original posts: a JSON key lookup decodes "false" to False on SQLite, and reposts need none. Posts with no
    time (text-only imports) have no place in a cascade and are left out."""
    columns = {k: [] for k in ("post", "platform_id", "account", "kind", "ref_post", "ref_account", "time", "label")}
    rows = Post.objects.filter(collection=collection, kind__in=[Post.Kind.POST, *kinds], time__isnull=False)
    rows = rows.order_by("time", "id")
    fields = ["id", "platform_id", "account_id", "kind", "ref_post_id", "ref_account_id", "time"]
    for row in rows.values_list(*fields)[:POSTS_CAP].iterator(chunk_size=BATCH_ROWS):
        for key, value in zip(columns, row):
            columns[key].append(value.timestamp() if key == "time" else value)
    labels = {}
    if label_key:
        originals = (
            Post.objects.filter(collection=collection, kind=Post.Kind.POST, time__isnull=False)
            .exclude(labels={})
            .order_by("time", "id")
        )
        for pk, own in originals.values_list("id", "labels")[:POSTS_CAP].iterator(chunk_size=BATCH_ROWS):
            labels[pk] = (own or {}).get(label_key)
    columns["label"] = [labels.get(pk) for pk in columns["post"]]
    return columns, len(columns["post"])


def account_pairs(*, collection, actions) -> tuple[list, list, int]:
    """(source, target) account pks of the repost/quote/reply interactions, the latest ``INTERACTIONS_CAP``."""
    rows = Interaction.objects.filter(collection=collection, action__in=list(actions), target_account__isnull=False)
    sources, targets = [], []
    for s, t in (
        rows.order_by("-time")
        .values_list("source_account_id", "target_account_id")[:INTERACTIONS_CAP]
        .iterator(chunk_size=BATCH_ROWS)
    ):
        sources.append(s)
        targets.append(t)
    return sources, targets, len(sources)


def post_hashtags(*, collection) -> tuple[list, list, int]:
    """(post pk, hashtag) of every hashtag interaction, the latest ``INTERACTIONS_CAP``."""
    rows = Interaction.objects.filter(collection=collection, action="hashtag", target_entity__isnull=False)
    posts, tags = [], []
    for p, h in (
        rows.order_by("-time")
        .values_list("post_id", "target_entity__value")[:INTERACTIONS_CAP]
        .iterator(chunk_size=BATCH_ROWS)
    ):
        posts.append(p)
        tags.append(h)
    return posts, tags, len(posts)


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
    figure 5 colours accounts by the veracity of what they spread). At most ``LABEL_OWNERS_CAP`` rows."""
    votes: dict = defaultdict(Counter)
    if account_ids is not None:
        ids = list(account_ids)
        for start in range(0, len(ids), BATCH_ROWS):
            rows = Post.objects.filter(collection=collection, account_id__in=ids[start : start + BATCH_ROWS])
            for owner, own in rows.values_list("account_id", "labels")[:LABEL_OWNERS_CAP].iterator(
                chunk_size=BATCH_ROWS
            ):
                value = (own or {}).get(label_key)
                if value not in (None, ""):
                    votes[owner][str(value)] += 1
    if hashtags is not None:
        rows = Interaction.objects.filter(
            collection=collection, action="hashtag", target_entity__value__in=list(hashtags)[:NODES_CAP]
        )
        for owner, own in rows.values_list("target_entity__value", "post__labels")[:LABEL_OWNERS_CAP].iterator(
            chunk_size=BATCH_ROWS
        ):
            value = (own or {}).get(label_key)
            if value not in (None, ""):
                votes[owner][str(value)] += 1
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
