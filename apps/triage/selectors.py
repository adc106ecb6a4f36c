"""Reads: queues through an investigation the user belongs to; a queue's items in its order; the item an
analyst sees next, with its context; progress; agreement between analysts (Cohen's κ per pair with its confusion,
Fleiss' κ), the disagreements and the labels training uses; the rounds of active learning.

Items are the source analysis's ``PostScore`` rows. The next items are one indexed query per key press in the
uncertainty and score orders (walks of the (analysis, score) index that skip the analyst's decided posts, both
sides of the threshold in one round trip on PostgreSQL), and each walk resumes where the analyst's last one stopped
(``_resume``), so it does not step over every item they have decided. The random order reads its items a page at
a time (the seeded order of a page never changes: each is sorted once and kept in Django's cache).
"""
from __future__ import annotations

import secrets
from collections import defaultdict

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Abs, Coalesce, Mod
from django.urls import reverse

from apps.analyses.models import Analysis, PostScore, TextModel
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
    found = items_next(queue=queue, user=user)
    return found[0] if found else None


def items_next(*, queue: TriageQueue, user, count: int = 1) -> list:
    """The first ``count`` items of the queue's order that ``user`` has not decided: the page shows the first and
    fetches the second ahead, so that a key press draws it at once."""
    stamp, resume = _resume(queue, user)
    if queue.order == TriageQueue.Order.RANDOM:
        found, resume = _random_next(queue, user, count, resume)
    elif queue.order == TriageQueue.Order.SCORE:
        found, resume = _score_next(queue, user, count, resume)
    else:
        found, resume = _uncertainty_next(queue, user, count, resume)
    cache.set(_resume_key(queue, user), {"stamp": stamp, "at": resume}, RESUME_CACHE_S)
    return found


def _uncertainty_next(queue: TriageQueue, user, count: int, resume: dict) -> tuple[list, dict]:
    """Nearest to the threshold from above and from below, each a walk of the score index, instead of sorting every
    item by its distance: the closer ones of the two walks (the lower id on a tie) are the queue's next."""
    cut, field = boundary(queue), item_field(queue)
    rows = _undecided(item_rows(queue), queue=queue, user=user)
    above, below = rows.filter(score__gte=cut), rows.filter(score__lt=cut)
    if resume.get("above"):
        above = above.filter(_at_or_after(resume["above"], field, rising=True))
    if resume.get("below"):
        below = below.filter(_at_or_after(resume["below"], field, rising=False))
    found = _read_both(above.order_by("score", field)[:count], below.order_by("-score", field)[:count])
    for side, on_side in (("above", lambda row: row.score >= cut), ("below", lambda row: row.score < cut)):
        first = min((row for row in found if on_side(row)), key=lambda row: abs(row.score - cut), default=None)
        if first is not None:
            resume[side] = (first.score, getattr(first, field))
    found.sort(key=lambda row: (abs(row.score - cut), getattr(row, field)))
    return found[:count], resume


def _score_next(queue: TriageQueue, user, count: int, resume: dict) -> tuple[list, dict]:
    field = item_field(queue)
    rows = _undecided(item_rows(queue), queue=queue, user=user)
    if resume.get("score"):
        rows = rows.filter(_at_or_after(resume["score"], field, rising=False))
    found = list(rows.order_by("-score", field)[:count])
    if found:
        resume["score"] = (found[0].score, getattr(found[0], field))
    return found, resume


def _at_or_after(position: tuple[float, int], field: str, *, rising: bool) -> Q:
    """Items at or past ``position`` (score, id) in a walk by score (rising or falling), ties by rising id. The plain
    score bound is what the index walk starts from; the tie test only reads the few rows of that one score."""
    score, item_id = position
    if rising:
        return Q(score__gte=score) & (Q(score__gt=score) | Q(**{f"{field}__gte": item_id}))
    return Q(score__lte=score) & (Q(score__lt=score) | Q(**{f"{field}__gte": item_id}))


def _read_both(first: QuerySet, second: QuerySet) -> list:
    """Two sliced walks as one round trip where the database allows a LIMIT in each part of a UNION ALL
    (PostgreSQL); SQLite, in-process, reads them one after the other."""
    if connection.features.supports_slicing_ordering_in_compound:
        return list(first.union(second, all=True))
    return [*first, *second]


RANDOM_PAGE = 200  # items per page of the random order
RANDOM_PAGE_CACHE_S = 3600


def _random_next(queue: TriageQueue, user, count: int, resume: dict) -> tuple[list, dict]:
    """The random order a page at a time from the page where the user's last walk found an item: sorting every item
    by its seeded hash on each key press read the whole queue (96 ms on 300 k posts), a page's item ids are read
    once. Within a page, the items the user has not decided, in the page's order."""
    field = item_field(queue)
    rank = Mod(F(field) * random_multiplier(queue.seed), PRIME)
    rows = _undecided(item_rows(queue), queue=queue, user=user).annotate(rank=rank)
    page, found = resume.get("page", 0), []
    while len(found) < count:
        ids = _random_page(queue, page)
        if not ids:
            break
        more = list(rows.filter(**{f"{field}__in": ids}).order_by("rank", field)[: count - len(found)])
        if more and not found:
            resume["page"] = page
        found += more
        page += 1
    return found, resume


def _random_page(queue: TriageQueue, page: int) -> list[int]:
    """The item ids of page ``page`` of the queue's random order (its seed, its current round's items): they never
    change, so each page is sorted once (a top-N read of the queue) and kept in Django's cache."""
    key = f"triage:random:{queue.pk}:{queue.analysis_id}:{queue.seed}:{page}"
    ids = cache.get(key)
    if ids is None:
        field = item_field(queue)
        ranked = item_rows(queue).annotate(rank=Mod(F(field) * random_multiplier(queue.seed), PRIME))
        ids = list(ranked.order_by("rank", field).values_list(field, flat=True)
                   [page * RANDOM_PAGE:(page + 1) * RANDOM_PAGE])
        cache.set(key, ids, RANDOM_PAGE_CACHE_S)
    return ids


# Where a user's walk resumes ----------------------------------------------------------------------------
# Each walk of the queue's order starts where the user's last one found its first item: every item before it was
# decided (by the user, or by enough members where the queue asks for N labels per item), and stays so until a
# decision is undone. An undo in the queue gives it a new stamp (``walks_restart``, after its commit), and a resume
# point of an older stamp is not used: the walk starts from the beginning, as without a cache. The key holds the
# round's analysis and the labels per item, which change what the order is.

RESUME_CACHE_S = 3600


def _resume_key(queue: TriageQueue, user) -> str:
    return f"triage:resume:{queue.pk}:{queue.analysis_id}:{queue.labels_per_item}:{user.pk}"


def _stamp_key(queue: TriageQueue) -> str:
    return f"triage:stamp:{queue.pk}"


def _resume(queue: TriageQueue, user) -> tuple[str, dict]:
    """(the queue's stamp now, where the user's walk may resume: {} to start from the beginning)."""
    found = cache.get_many([_stamp_key(queue), _resume_key(queue, user)])
    stamp, resume = found.get(_stamp_key(queue)), found.get(_resume_key(queue, user)) or {}
    if stamp is None:  # first walk of the queue (or the stamp was evicted): nothing cached can be trusted
        cache.add(_stamp_key(queue), secrets.token_hex(8), None)
        return cache.get(_stamp_key(queue)), {}
    return stamp, dict(resume["at"]) if resume.get("stamp") == stamp else {}


def walks_restart(queue: TriageQueue) -> None:
    """Every user's next walk of the queue starts from the beginning: a decision was undone, so an item before
    where a walk would resume may be undecided again. Called again after the undo's commit, so that no walk that
    still saw the decision can leave a resume point under the stamp that counts."""
    cache.set(_stamp_key(queue), secrets.token_hex(8), None)


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
    """What the page shows of one item: ``items_describe`` of one."""
    return items_describe(queue=queue, rows=[row])[0]


def items_describe(*, queue: TriageQueue, rows: list) -> list[dict | None]:
    """What the page shows of each item (None for a post scored, then removed from the collection): the post, its
    account with other recent posts, its score, the attention view of the model that scored it, and its neighbours
    in the collection's stored networks. The items' posts, the model and the networks are read once for them all.
    An account queue's item: ``account_item_describe``."""
    if is_account_queue(queue):
        return [account_item_describe(queue=queue, row=row) for row in rows]
    posts = Post.objects.select_related("account").filter(collection_id=queue.collection_id).in_bulk(
        [row.post_id for row in rows])
    shown = [posts.get(row.post_id) for row in rows]
    networks = _networks(collection_id=queue.collection_id, account_ids=[p.account_id for p in shown if p])
    model = _attention_model(queue) if any(shown) else None
    return [_post_describe(queue, row, post, model, networks.get(post.account_id, [])) if post else None
            for row, post in zip(rows, shown)]


def _post_describe(queue: TriageQueue, row: PostScore, post: Post, model: int | None, networks: list) -> dict:
    account = post.account
    posts_url = reverse("collection-posts", args=[queue.collection_id])
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
        # the score page's stored mark: beyond the training range or the shift limit; None where nothing was measured
        "unreliable": row.unreliable,
        "uncertainty": abs(row.score - boundary(queue)),
        "attention_url": reverse("text-model-post", args=[model, post.pk]) if model else None,
        "networks": networks,
    }


def _attention_model(queue: TriageQueue) -> int | None:
    """The id of the model of the queue's latest round (a retrained one: ``text_model_id`` in its result), where it
    is still a model of the investigation; only its id (its stored metrics and curves are not needed here)."""
    model_id = (queue.analysis.result or {}).get("text_model_id") or queue.analysis.params.get("model")
    try:
        pk = int(model_id)
    except (TypeError, ValueError):
        return None
    return TextModel.objects.filter(investigation_id=queue.investigation_id, pk=pk).values_list("pk", flat=True).first()


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
        "networks": _networks(collection_id=queue.collection_id, account_ids=[detail["id"]]).get(detail["id"], []),
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


def _networks(*, collection_id: int, account_ids: list[int]) -> dict[int, list[dict]]:
    """{account id: the latest stored networks it is a node of, each with its strongest neighbours}."""
    analyses = list(
        Analysis.objects.filter(collection_id=collection_id, kind__in=NETWORK_KINDS)
        .only("id", "kind", "params", "summary", "created_at")
        .order_by("-created_at", "-id")[:NETWORKS_SHOWN]
    )
    if not analyses or not account_ids:
        return {}
    neighbours = _neighbours(analyses, account_ids)
    shown: dict[int, list[dict]] = defaultdict(list)
    for account_id in account_ids:
        for analysis in analyses:
            found = neighbours.get((analysis.pk, account_id))
            if found is not None:
                shown[account_id].append({"analysis": analysis.pk, "title": analysis.title,
                                          "url": reverse("analysis-detail", args=[analysis.pk]), "neighbours": found})
    return dict(shown)


def _neighbours(analyses: list[Analysis], account_ids: list[int]) -> dict[tuple[int, int], list[dict]]:
    """{(analysis id, account id): its strongest neighbours} for the accounts that are nodes of those stored
    networks, in one read of Django's cache (Redis in production, shared by every web process). Each network is read
    from the database once and kept as one key per node (an analysis row never changes): a key per network made
    every item unpickle the whole adjacency, about 12 ms for a network of the IRA file's 2,300 accounts. Its
    ``read`` key says the network is cached (a node without a key is no node of it); it lives a minute less than
    the node keys, so it never outlives them. ``created_at`` in the keys keeps an id SQLite hands out again from
    reading another's network."""
    prefix = {a.pk: f"triage:adjacency:{a.pk}:{a.created_at.isoformat()}" for a in analyses}
    keys = {f"{prefix[a]}:read": (a, None) for a in prefix}
    keys |= {f"{prefix[a]}:{account}": (a, account) for a in prefix for account in account_ids}
    found = cache.get_many(list(keys))
    neighbours = {keys[key]: value for key, value in found.items() if keys[key][1] is not None}
    for analysis_id in prefix:
        if f"{prefix[analysis_id]}:read" in found:
            continue
        adjacency = _adjacency_read(analysis_id)
        nodes = list(adjacency)
        for start in range(0, len(nodes), 1000):
            chunk = nodes[start:start + 1000]
            cache.set_many({f"{prefix[analysis_id]}:{node}": adjacency[node] for node in chunk}, ADJACENCY_CACHE_S)
        cache.set(f"{prefix[analysis_id]}:read", True, ADJACENCY_CACHE_S - 60)
        neighbours |= {(analysis_id, a): adjacency[a] for a in account_ids if a in adjacency}
    return neighbours


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
