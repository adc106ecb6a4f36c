"""Reads: queues through an investigation the user belongs to; a queue's items in its order; the item an
analyst sees next, with its context; progress; agreement between analysts (Cohen's κ per pair with its confusion,
Fleiss' κ), the disagreements and the labels training uses; the rounds of active learning.

Items are the source analysis's ``PostScore`` rows. The next item is one indexed query per key press in
the uncertainty and score orders (walks of the (analysis, score) index that skip the analyst's decided
posts); the random order sorts the queue's items by a seeded hash of the post id on every call.
"""
from __future__ import annotations

from collections import defaultdict

from django.core.cache import cache
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Abs, Coalesce, Mod
from django.urls import reverse

from apps.analyses.kinds.score import ood_limit
from apps.analyses.models import Analysis, PostScore
from apps.analyses.selectors import text_model_of
from apps.collections.models import Post
from apps.investigations.models import Investigation, Role
from apps.investigations.selectors import member_object_get
from apps.jobs.models import Job
from apps.triage.agreement import fleiss_of_labels, pairwise_kappa
from apps.triage.models import TriageAccountItem, TriageDecision, TriageQueue, TriageResolution, TriageRound

# A prime: (post id × a seed's multiplier) mod PRIME orders every id below it differently for each seed.
PRIME = 2_147_483_647
RECENT_POSTS = 5
NETWORK_KINDS = ("coordination", "coaction", "retweet_network")  # networks whose nodes are accounts
NETWORKS_SHOWN = 3
NEIGHBOURS_SHOWN = 8


def queue_list(*, investigation: Investigation) -> QuerySet[TriageQueue]:
    return TriageQueue.objects.filter(investigation=investigation).select_related("collection", "created_by")


def queue_get(*, user, queue_id: int, role: str = Role.VIEWER) -> TriageQueue:
    queryset = TriageQueue.objects.select_related("investigation", "collection", "analysis", "created_by")
    return member_object_get(user=user, queryset=queryset, pk=queue_id, role=role)


SOURCE_KINDS = {TriageQueue.Unit.POST: ("score",), TriageQueue.Unit.ACCOUNT: ("score", "hybrid")}


def score_analyses(*, investigation: Investigation, kinds=("score",)) -> QuerySet[Analysis]:
    """The analyses a queue can draw its items from: scorings of one collection of the investigation (an account
    queue also takes a hybrid account score: ``kinds=("score", "hybrid")``)."""
    return (
        Analysis.objects.filter(investigation=investigation, kind__in=kinds, collection__isnull=False)
        .select_related("collection")
        .defer("result")
        .order_by("-created_at", "-id")
    )


def is_account_queue(queue: TriageQueue) -> bool:
    return queue.unit == TriageQueue.Unit.ACCOUNT


def item_field(queue: TriageQueue) -> str:
    """The id an item is known by in the queue's rows and decisions: ``post_id`` or ``account_id``."""
    return "account_id" if is_account_queue(queue) else "post_id"


def item_rows(queue: TriageQueue) -> QuerySet:
    """The queue's items, unordered: the scoring's PostScores (posts) or the queue's TriageAccountItems."""
    if is_account_queue(queue):
        return TriageAccountItem.objects.filter(queue_id=queue.pk)
    return PostScore.objects.filter(analysis_id=queue.analysis_id)


def random_multiplier(seed: int) -> int:
    return 2 + (seed * 2_654_435_761 + 97) % (PRIME - 3)


def queue_items(queue: TriageQueue) -> QuerySet:
    """Every item of the queue in its order (PostScores, or TriageAccountItems for an account queue); ties go to the
    lower post (account) id."""
    rows, field = item_rows(queue), item_field(queue)
    if queue.order == TriageQueue.Order.SCORE:
        return rows.order_by("-score", field)
    if queue.order == TriageQueue.Order.RANDOM:
        rank = Mod(F(field) * random_multiplier(queue.seed), PRIME)
        return rows.annotate(rank=rank).order_by("rank", field)
    return rows.annotate(distance=Abs(F("score") - boundary(queue))).order_by("distance", field)


def boundary(queue: TriageQueue) -> float:
    """Where the detector is least sure: its threshold (the score analysis's, chosen on validation for a calibrated
    model; 0.5 for a score analysis from before calibration, and for a hybrid account probability)."""
    if not queue.analysis_id or queue.analysis.kind != "score":
        return 0.5
    threshold = (queue.analysis.result or {}).get("threshold")
    return float(threshold) if isinstance(threshold, int | float) and 0.0 <= threshold <= 1.0 else 0.5


def _undecided(rows: QuerySet, *, queue: TriageQueue, user) -> QuerySet:
    """Items ``user`` has not decided and, where the queue asks for N labels per item, that fewer than N members
    have labelled (two analysts shown one item at once may both label it: the item then has one label more)."""
    field = item_field(queue)
    decided = TriageDecision.objects.filter(queue=queue, user=user, **{field: OuterRef(field)})
    rows = rows.filter(~Exists(decided))
    if not queue.labels_per_item:
        return rows
    labelled = (
        TriageDecision.objects.filter(queue=queue, **{field: OuterRef(field)}).exclude(value="")
        .values(field).annotate(n=Count("user_id", distinct=True)).values("n")
    )
    return rows.annotate(labellers=Coalesce(Subquery(labelled), 0)).filter(labellers__lt=queue.labels_per_item)


def item_next(*, queue: TriageQueue, user) -> PostScore | TriageAccountItem | None:
    """The first item of the queue's order that ``user`` has not decided (labelled or skipped)."""
    if queue.order != TriageQueue.Order.UNCERTAINTY:
        return _undecided(queue_items(queue), queue=queue, user=user).first()
    # Nearest to the threshold from above and from below, each a walk of the score index, instead of sorting every
    # item by its distance: the closer of the two (the lower post id on a tie) is the queue's next.
    cut, field = boundary(queue), item_field(queue)
    rows = _undecided(item_rows(queue), queue=queue, user=user)
    above = rows.filter(score__gte=cut).order_by("score", field).first()
    below = rows.filter(score__lt=cut).order_by("-score", field).first()
    found = [row for row in (above, below) if row is not None]
    return min(found, key=lambda row: (abs(row.score - cut), getattr(row, field)), default=None)


def progress(*, queue: TriageQueue, user) -> dict:
    """The user's items decided (each item's latest decision: a label or a skip) out of the queue's."""
    latest = (
        TriageDecision.objects.filter(queue=queue, user=user).values(item_field(queue)).annotate(last=Max("id"))
        .values("last")
    )
    counts = TriageDecision.objects.filter(pk__in=latest).aggregate(
        done=Count("id"), skipped=Count("id", filter=Q(value=""))
    )
    return {"done": counts["done"], "labelled": counts["done"] - counts["skipped"], "skipped": counts["skipped"],
            "total": queue.total}


def done_counts(*, queues, user) -> dict[int, int]:
    """{queue id: items (posts or accounts) the user has decided} for a list of queues, in one query."""
    rows = (
        TriageDecision.objects.filter(queue__in=list(queues), user=user)
        .values("queue_id")
        .annotate(done=Count("post_id", distinct=True) + Count("account_id", distinct=True))
    )
    return {row["queue_id"]: row["done"] for row in rows}


def item_labels(*, queue: TriageQueue) -> dict[int, dict[str, str]]:
    """{item id (post, or account for an account queue): {analyst: label}}: each analyst's latest decision per item,
    skips left out."""
    field = item_field(queue)
    latest = (
        TriageDecision.objects.filter(queue=queue, user__isnull=False)
        .values(field, "user_id")
        .annotate(last=Max("id"))
        .values("last")
    )
    labels: dict[int, dict[str, str]] = defaultdict(dict)
    rows = TriageDecision.objects.filter(pk__in=latest).exclude(value="").values_list(field, "user__username", "value")
    for item_id, username, value in rows.order_by(field, "user__username"):
        labels[item_id][username] = value
    return dict(labels)


def agreement(*, queue: TriageQueue) -> list[dict]:
    """Cohen's κ per pair of analysts over the items both labelled (each one's latest label; skips left out), with
    the pair's confusion table."""
    by_analyst: dict[str, dict[int, str]] = defaultdict(dict)
    for post_id, given in item_labels(queue=queue).items():
        for username, value in given.items():
            by_analyst[username][post_id] = value
    return pairwise_kappa(dict(by_analyst), values=queue.label_values)


def fleiss(*, queue: TriageQueue) -> dict | None:
    """Fleiss' κ over the items labelled by more than two analysts: by exactly the queue's labels per item where
    that is 3 or more, else by the most analysts any item has (None below 3: Cohen's κ per pair says it all)."""
    labels = item_labels(queue=queue)
    raters = queue.labels_per_item if queue.labels_per_item >= 3 else max(map(len, labels.values()), default=0)
    return fleiss_of_labels(labels, values=queue.label_values, raters=raters) if raters >= 3 else None


def disagreements(*, queue: TriageQueue) -> list[dict]:
    """The posts two or more analysts labelled differently, unresolved first (then by post id): ``{"post_id",
    "labels": {analyst: label}, "resolution": TriageResolution | None}``. Post queues only: resolutions feed the
    text classifier's retraining, which an account queue has not (an account queue answers [])."""
    if is_account_queue(queue):
        return []
    resolved = {r.post_id: r for r in TriageResolution.objects.filter(queue=queue).select_related("user")}
    rows = [
        {"post_id": post_id, "labels": given, "resolution": resolved.get(post_id)}
        for post_id, given in item_labels(queue=queue).items()
        if len(set(given.values())) > 1
    ]
    return sorted(rows, key=lambda row: (row["resolution"] is not None, row["post_id"]))


def training_labels(*, queue: TriageQueue) -> tuple[dict[int, str], int]:
    """({post id: label}, unresolved): the label training uses for each post of the queue: its resolution where a
    member resolved it, else the label every analyst who labelled it agreed on; a disagreement nobody resolved is
    left out (and counted). Post queues only (an account queue answers ({}, 0))."""
    if is_account_queue(queue):
        return {}, 0
    resolved = dict(TriageResolution.objects.filter(queue=queue).values_list("post_id", "value"))
    chosen, unresolved = {}, 0
    for post_id, given in item_labels(queue=queue).items():
        values = set(given.values())
        if post_id in resolved:
            chosen[post_id] = resolved[post_id]
        elif len(values) == 1:
            chosen[post_id] = values.pop()
        else:
            unresolved += 1
    for post_id, value in resolved.items():  # resolved, then every label undone: the resolution still stands
        chosen.setdefault(post_id, value)
    return chosen, unresolved


def round_list(*, queue: TriageQueue) -> QuerySet[TriageRound]:
    return TriageRound.objects.filter(queue=queue).select_related("model", "created_by").order_by("number")


RETRAIN_JOB_KIND = "analysis:triage_retrain"


def retrain_jobs(*, queue: TriageQueue) -> QuerySet[Job]:
    """The queue's retraining jobs, latest first (started from the page, the API or ``run_analysis``)."""
    return Job.objects.filter(investigation_id=queue.investigation_id, kind=RETRAIN_JOB_KIND,
                              params__params__queue=queue.pk).order_by("-id")


# One item and its context -----------------------------------------------------------------------------

def item_describe(*, queue: TriageQueue, row) -> dict | None:
    """What the page shows of one item: the post, its account with other recent posts, its score, the
    attention view of the model that scored it, and its neighbours in the collection's stored networks. An account
    queue's item: ``account_item_describe``."""
    if is_account_queue(queue):
        return account_item_describe(queue=queue, row=row)
    post = Post.objects.select_related("account").filter(pk=row.post_id, collection_id=queue.collection_id).first()
    if post is None:  # scored, then removed from the collection: nothing to show
        return None
    account = post.account
    posts_url = reverse("collection-posts", args=[queue.collection_id])
    # The model of the queue's latest round (a retrained one: ``text_model_id`` in its result).
    model_id = (queue.analysis.result or {}).get("text_model_id") or queue.analysis.params.get("model")
    model = text_model_of(investigation=queue.investigation_id, model_id=model_id)
    return {
        "unit": TriageQueue.Unit.POST,
        "post": {
            "id": post.pk,
            "platform_id": post.platform_id,
            "text": post.text,
            "time": post.time,
            "kind": post.kind,
            "label": (post.labels or {}).get(queue.label_key),
            "url": f"{posts_url}?account={account.pk}#post-{post.pk}",
        },
        "account": {
            "id": account.pk,
            "handle": str(account),
            "display_name": account.display_name,
            "labels": account.labels or {},
            "url": f"{posts_url}?account={account.pk}",
            "recent": _recent_posts(account_id=account.pk, exclude=post.pk),
        },
        "score": row.score,
        "unreliable": _unreliable(queue, row),
        "uncertainty": abs(row.score - boundary(queue)),
        "attention_url": reverse("text-model-post", args=[model.pk, post.pk]) if model else None,
        "networks": _networks(collection_id=queue.collection_id, account_id=account.pk),
    }


def _unreliable(queue: TriageQueue, row) -> bool | None:
    """The score page's out-of-distribution mark on this post: beyond the training range's 99th percentile distance
    (None where the model measured no range)."""
    limit = ood_limit(queue.analysis.result or {})
    ood = getattr(row, "ood", None)
    return None if limit is None or ood is None else ood > limit


TOP_POSTS = 5


def account_item_describe(*, queue: TriageQueue, row: TriageAccountItem) -> dict | None:
    """An account queue's item: the account's facts (the workspace's account panel, read-only: handle, post count,
    labels, its communities in stored networks), its top posts by score, its score here and its neighbours."""
    from apps.workspace.selectors import account_detail

    detail = account_detail(investigation=queue.investigation, account_id=row.account_id)
    if detail is None or detail["collection"]["id"] != queue.collection_id:
        return None
    posts_url = reverse("collection-posts", args=[queue.collection_id])
    return {
        "unit": TriageQueue.Unit.ACCOUNT,
        "post": None,
        "account": {
            "id": detail["id"],
            "handle": f"@{detail['handle']}" if detail["handle"] != detail["platform_id"] else detail["handle"],
            "display_name": detail["display_name"],
            "labels": detail["labels"],
            "label": detail["labels"].get(queue.label_key),
            "url": f"{posts_url}?account={detail['id']}",
            "posts": detail["posts"],
            "recent": [],
            "top_posts": _top_posts(queue=queue, detail=detail),
            "communities": [{k: c[k] for k in ("analysis", "title", "community", "size")}
                            for c in detail["communities"]],
        },
        "score": row.score,
        "uncertainty": abs(row.score - boundary(queue)),
        "attention_url": None,
        "networks": _networks(collection_id=queue.collection_id, account_id=detail["id"]),
    }


def _top_posts(*, queue: TriageQueue, detail: dict) -> list[dict]:
    """The account's highest-scored posts: in the queue's scoring, or (a hybrid queue) in the latest scoring that
    scored the account."""
    analysis_id = queue.analysis_id if queue.analysis.kind == "score" else next(
        (s["analysis"] for s in detail["scores"]), None)
    if analysis_id is None:
        return []
    rows = list(PostScore.objects.filter(analysis_id=analysis_id, account_id=detail["id"])
                .order_by("-score", "post_id").values_list("post_id", "score")[:TOP_POSTS])
    posts = Post.objects.in_bulk([post_id for post_id, _ in rows])
    return [{"id": post_id, "text": posts[post_id].text, "time": posts[post_id].time, "score": score}
            for post_id, score in rows if post_id in posts]


def _recent_posts(*, account_id: int, exclude: int) -> list[dict]:
    """The account's latest other posts by time (the (account, time) index), topped up with untimed ones."""
    rows = Post.objects.filter(account_id=account_id).exclude(pk=exclude).only("id", "text", "time")
    recent = list(rows.filter(time__isnull=False).order_by("-time", "-id")[:RECENT_POSTS])
    if len(recent) < RECENT_POSTS:
        recent += list(rows.filter(time__isnull=True).order_by("-id")[: RECENT_POSTS - len(recent)])
    return [{"id": p.pk, "text": p.text, "time": p.time} for p in recent]


ADJACENCY_CACHE_S = 3600


def _networks(*, collection_id: int, account_id: int) -> list[dict]:
    analyses = (
        Analysis.objects.filter(collection_id=collection_id, kind__in=NETWORK_KINDS)
        .only("id", "kind", "params", "summary", "created_at")
        .order_by("-created_at", "-id")[:NETWORKS_SHOWN]
    )
    shown = []
    for analysis in analyses:
        adjacency = _adjacency(analysis.pk, analysis.created_at.isoformat())
        if account_id in adjacency:
            shown.append({
                "analysis": analysis.pk,
                "title": analysis.title,
                "url": reverse("analysis-detail", args=[analysis.pk]),
                "neighbours": adjacency[account_id],
            })
    return shown


def _adjacency(analysis_id: int, created_at: str) -> dict[int, list[dict]]:
    """{account id: its strongest neighbours} of a stored network, read once and kept in Django's cache (Redis in
    production, shared by every web process): an analysis row never changes (``created_at`` in the key keeps an id
    SQLite hands out again from reading another's network)."""
    key = f"triage:adjacency:{analysis_id}:{created_at}"
    found = cache.get(key)
    if found is None:
        found = _adjacency_read(analysis_id)
        cache.set(key, found, ADJACENCY_CACHE_S)
    return found


def _adjacency_read(analysis_id: int) -> dict[int, list[dict]]:
    result = Analysis.objects.filter(pk=analysis_id).values_list("result", flat=True).first() or {}
    handles = {n.get("id"): n.get("handle") or str(n.get("id")) for n in result.get("nodes", [])}
    links: dict[int, list[tuple[float, int]]] = {node: [] for node in handles}
    for edge in result.get("edges", []):
        source, target, weight = edge.get("source"), edge.get("target"), edge.get("weight") or 0
        links.setdefault(source, []).append((weight, target))
        links.setdefault(target, []).append((weight, source))
    return {
        node: [{"id": other, "handle": handles.get(other, str(other)), "weight": weight}
               for weight, other in sorted(pairs, key=lambda p: (-p[0], str(p[1])))[:NEIGHBOURS_SHOWN]]
        for node, pairs in links.items()
    }
