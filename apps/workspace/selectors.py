"""Reads behind the workspace's JSON API: the posts table (filters, keyset pages), the activity timeline, the
account and post panels, and the stored networks with the nodes active in a time range.

The caller fetched the investigation (or the analysis) through ``apps.investigations.selectors``, so access is
checked there, once; every id read here from a query string is then looked up *inside* that investigation, and
one of another investigation is as absent as a missing one.

Pages are keyset pages, never OFFSET: a page starts after the last row of the previous one, so page 1,000 of a
1.35 M-post collection costs what page 1 costs. Time order is (time, id) over the ``(collection, time)`` index,
with the posts that have no time (text-only imports) after all the others, ordered by id; score order is
(score, post id) over PostScore's ``(analysis, -score)`` index.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Avg, CharField, Count, Exists, Func, Max, Min, OuterRef, Q, QuerySet
from django.db.models.fields.json import KeyTransform
from django.urls import reverse

from apps.analyses.hybrid_selectors import hybrid_for_account
from apps.analyses.kinds.base import kind_get
from apps.analyses.models import Analysis, PostScore, TextModel
from apps.analyses.selectors import ENTITY_NETWORKS, entity_ids_by_value
from apps.collections.models import Account, Collection, Entity, Interaction, Post
from apps.collections.stats import posts_per_day
from apps.common.converters import MAX_ID
from apps.investigations.models import Investigation
from apps.notes.models import Note, TargetType, TechniqueTag

# The kinds whose page draws a network of accounts or of entities (propagation, a NetworkKind too, draws cascades).
NETWORK_KINDS = ("coordination", "coaction", "retweet_network", "hashtag_network")
SCORE_KIND = "score"
SORTS = ("time", "-time", "score", "-score")
PAGE_DEFAULT, PAGE_MAX = 50, 200
COUNT_CAP = 10_000
COMMUNITY_CACHE_S = 3600
COUNT_CACHE_S = 600  # a count outlives no import (see post_count); ten minutes bounds what an idle key holds
IDS_MAX = 5_000
MERGED_ACCOUNTS_MAX = 10  # up to this many accounts, a time page is read account by account and merged
HOUR_BINS_UP_TO = timedelta(days=3)  # a collection spanning at most this is binned by hour
LOOKUP_BATCH = 900  # ids per IN (...): under SQLite's oldest variable limit


# Filters ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostFilters:
    """What narrows the posts of one collection; every set field narrows further (AND).

    ``accounts`` is None for "any account", else ids of accounts *of the collection* (build it with
    ``post_filters_build``, which checks them): the queries then read the ``(account, time)`` index alone, without
    the collection's condition, so a community's posts are counted and binned from the index (PostgreSQL: an
    index-only scan, 12 ms instead of 150 ms for 41 k posts). Each tuple of ``entity_sets`` keeps the posts that
    use at least one of its entities (the ``entity`` parameter, and a hashtag network's community)."""

    collection: Collection
    accounts: frozenset[int] | None = None
    entity_sets: tuple[tuple[int, ...], ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    q: str = ""
    label: tuple[str, str] | None = None
    score: Analysis | None = None
    min_score: float | None = None
    narrowing: tuple[str, ...] = field(default=())  # the parameters that narrow beyond the collection and time

    @property
    def narrows(self) -> bool:
        return bool(self.narrowing)


def post_filters_build(*, collection: Collection, accounts=None, entity_sets=(), **rest) -> PostFilters:
    """``PostFilters`` with the accounts and entities reduced to the collection's own: one of another collection,
    or of another investigation, keeps nothing. The queries rely on it (see ``_narrowed``)."""
    if accounts is not None:
        accounts = _own(Account, collection, accounts)
    entity_sets = tuple(tuple(sorted(_own(Entity, collection, ids))) for ids in entity_sets)
    return PostFilters(collection=collection, accounts=accounts, entity_sets=entity_sets, **rest)


def _own(model, collection: Collection, ids) -> frozenset[int]:
    ids = sorted(ids)
    return frozenset(
        pk
        for start in range(0, len(ids), LOOKUP_BATCH)
        for pk in model.objects.filter(collection_id=collection.pk, pk__in=ids[start : start + LOOKUP_BATCH])
        .values_list("pk", flat=True)
    )


def collection_of(*, investigation: Investigation, collection_id: int) -> Collection | None:
    return Collection.objects.filter(pk=collection_id, investigation=investigation).first()


def score_analysis_of(*, investigation: Investigation, analysis_id: int) -> Analysis | None:
    return Analysis.objects.filter(pk=analysis_id, investigation=investigation, kind=SCORE_KIND).defer("result").first()


def network_of(*, investigation: Investigation, analysis_id: int) -> Analysis | None:
    return (
        Analysis.objects.filter(pk=analysis_id, investigation=investigation, kind__in=NETWORK_KINDS)
        .defer("result")
        .first()
    )


def community_members(*, analysis: Analysis, community: int) -> tuple[str, tuple[int, ...]]:
    """("account", account ids) or ("entity", entity ids) of community ``community`` of a stored network: every
    node with that community number (the result's community list is capped; its nodes are not). A ValidationError
    on ``community`` when no node has it.

    Cached (Django's cache: Redis in production): an analysis is written once and never changed, and reading its
    nodes makes the database unpack the whole stored network (megabytes on a large one) for every table page.
    The key holds the creation time too, so an id SQLite hands out again after a delete cannot meet old members."""
    prefix = f"workspace:community:{analysis.pk}:{analysis.created_at.timestamp()}:"
    found = cache.get(f"{prefix}{community}")
    if found is None:
        # One read of the stored nodes serves every community: asked one at a time, the first visit to each paid
        # for unpacking the whole network again (the posts API's slowest requests, bench/workspace.py).
        every = _communities_members(analysis)
        cache.set_many({f"{prefix}{number}": members for number, members in every.items()}, COMMUNITY_CACHE_S)
        found = every.get(community)
    if found is None:
        raise ValidationError({"community": [f"Analysis {analysis.pk} has no community {community}."]})
    return found


def _communities_members(analysis: Analysis) -> dict[int, tuple[str, tuple[int, ...]]]:
    """{community number: ("account", account ids) or ("entity", entity ids)} of every community of the network."""
    by_community: dict = {}
    for node in _stored_nodes(analysis):
        if isinstance(node, dict) and isinstance(node.get("community"), int):
            by_community.setdefault(node["community"], []).append(node["id"])
    if analysis.kind in ENTITY_NETWORKS:
        entities = entity_ids_by_value(analysis, [str(m) for members in by_community.values() for m in members])
        return {c: ("entity", tuple(sorted({entities[str(m)] for m in members if str(m) in entities})))
                for c, members in by_community.items()}
    return {c: ("account", tuple(sorted({m for m in members if _is_id(m)}))) for c, members in by_community.items()}


def _stored_nodes(analysis: Analysis) -> list:
    """The result's nodes only: the edges (most of a stored network) stay in the database."""
    nodes = Analysis.objects.filter(pk=analysis.pk).values_list(KeyTransform("nodes", "result"), flat=True).first()
    return nodes if isinstance(nodes, list) else []


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def _narrowed(rows: QuerySet, filters: PostFilters, *, via: str = "", pin_collection: bool = False) -> QuerySet:
    """``rows`` (Posts, or PostScores with ``via="post__"``) narrowed by every filter but the score's.

    The collection's own condition is left out where another one already pins it: accounts of the collection
    (their posts are all in it), or PostScores of a score analysis of it. PostgreSQL then counts and bins a
    community's posts from the ``(account, time)`` index alone (an index-only scan: 12 ms instead of 150 ms for
    41 k posts at 1.35 M). ``pin_collection`` keeps it, for a page over many accounts, whose best plan may be to
    walk the collection's ``(collection, time)`` index."""
    if any(not entities for entities in filters.entity_sets) or filters.accounts == frozenset():
        return rows.none()
    if filters.accounts is not None:
        rows = rows.filter(account_id__in=sorted(filters.accounts))  # PostScore keeps its post's account too
    scored_here = via and filters.score is not None and filters.score.collection_id == filters.collection.pk
    if pin_collection or (filters.accounts is None and not scored_here):
        rows = rows.filter(**{f"{via}collection_id": filters.collection.pk})
    for entities in filters.entity_sets:
        users = Interaction.objects.filter(target_entity_id__in=entities).values("post_id")
        rows = rows.filter(**{f"{via}id__in": users})
    if filters.start is not None:
        rows = rows.filter(**{f"{via}time__gte": filters.start})
    if filters.end is not None:
        rows = rows.filter(**{f"{via}time__lt": filters.end})
    if filters.q:
        rows = rows.filter(**{f"{via}text__icontains": filters.q})
    if filters.label is not None:
        rows = _with_label(rows, filters.label, via=via)
    return rows


def _with_label(rows: QuerySet, label: tuple[str, str], *, via: str) -> QuerySet:
    """Posts whose ``labels[key]`` is ``value``: the text, or the number or true/false it spells (JSON keeps
    ``{"fake": 1}`` and ``{"fake": "1"}`` apart; a query string cannot)."""
    key, value = label
    rows = rows.alias(_label=KeyTransform(key, f"{via}labels"))
    match = Q(_label=value)
    for typed in _typed_values(value):
        match |= Q(_label=typed)
    return rows.filter(match)


def _typed_values(value: str) -> list:
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return [lowered == "true"]
    try:
        number = float(value)
    except ValueError:
        return []
    if not math.isfinite(number):
        return []
    return [int(number)] if number.is_integer() and abs(number) < 2**53 else [number]


def filtered_posts(filters: PostFilters, *, pin_collection: bool = False) -> QuerySet[Post]:
    """Every post the filters keep (a score keeps only the posts it scored), unordered."""
    posts = _narrowed(Post.objects.all(), filters, pin_collection=pin_collection)
    if filters.score is not None:
        posts = posts.filter(id__in=_scores(filters).values("post_id"))
    return posts


def _scores(filters: PostFilters) -> QuerySet[PostScore]:
    scores = PostScore.objects.filter(analysis_id=filters.score.pk)
    return scores if filters.min_score is None else scores.filter(score__gte=filters.min_score)


# The posts table --------------------------------------------------------------------------------

POST_FIELDS = ("id", "platform_id", "time", "text", "kind", "labels", "account_id")


def post_page(
    *, filters: PostFilters, sort: str = "time", cursor: str | None = None, limit: int = PAGE_DEFAULT
) -> dict:
    """One page of the table: ``{"results", "next", "count", "count_capped"}``. ``count`` is exact up to
    ``COUNT_CAP``, then ``COUNT_CAP`` with ``count_capped``; it is counted for the first page only (None on the
    pages after a cursor: the table keeps the first page's, and counting is most of a page's cost). A bad cursor
    is a ValidationError on ``cursor``; score sorts need ``filters.score`` (the API checks it)."""
    after = cursor_decode(cursor, sort=sort) if cursor else None
    if sort in ("score", "-score"):
        rows = _score_page(filters, desc=sort == "-score", after=after, limit=limit)
    else:
        rows = _time_page(_time_parts(filters), desc=sort == "-time", after=after, limit=limit)
        if filters.score is not None:
            found = {
                pk: (score, unreliable)
                for pk, score, unreliable in _scores(filters)
                .filter(post_id__in=[r["id"] for r in rows])
                .values_list("post_id", "score", "unreliable")
            }
            for row in rows:
                row["score"], row["unreliable"] = found.get(row["id"], (None, None))
    more = len(rows) > limit
    rows = rows[:limit]
    handles = _handles({r["account_id"] for r in rows})
    for row in rows:
        account_id = row.pop("account_id")
        row["account"] = {"id": account_id, "handle": handles.get(account_id, "")}
        row.setdefault("score", None)
        # The score page's stored mark (beyond the training range or the shift limit); None where none was measured.
        row.setdefault("unreliable", None)
    count = post_count(filters) if after is None else None
    return {
        "results": rows,
        "next": _cursor_after(rows[-1], sort) if more else None,
        "count": min(count, COUNT_CAP) if count is not None else None,
        "count_capped": count > COUNT_CAP if count is not None else None,
    }


def post_count(filters: PostFilters) -> int:
    """How many posts the filters keep, up to ``COUNT_CAP + 1``. Cached (Django's cache: Redis in production): the
    count is most of a first page's cost, and analysts come back to the same community, account or week. A post's
    fields are written by its import alone, and every import stamps the collection's ``stats_updated_at``, which the
    key holds; so does the creation time of a score analysis (written once), as for ``community_members``."""
    score = filters.score
    described = repr((filters.collection.pk, filters.collection.stats_updated_at, sorted(filters.accounts or ()),
                      filters.accounts is None, filters.entity_sets, filters.start, filters.end, filters.q,
                      filters.label, score and (score.pk, score.created_at), filters.min_score))
    key = f"workspace:count:{hashlib.sha256(described.encode()).hexdigest()}"
    found = cache.get(key)
    if found is None:
        found = _countable(filters)[: COUNT_CAP + 1].count()
        cache.set(key, found, COUNT_CACHE_S)
    return found


def _countable(filters: PostFilters) -> QuerySet:
    """One row per filtered post, read the cheapest way PostgreSQL was seen to take (1.35 M posts): with a score,
    its PostScores (one per post) from the (analysis, ...) indexes, where ``post.id IN (scored)`` hashed every
    post (190 to 340 ms); for one entity alone, the distinct posts of its interactions (``post.id IN (...)``
    hashed every post too: 115 ms)."""
    if filters.score is not None:
        return _narrowed(_scores(filters), filters, via="post__").order_by().values("pk")
    if _entities_only(filters):
        uses = Interaction.objects.filter(target_entity_id__in=filters.entity_sets[0])
        return uses.order_by().values("post_id").distinct()
    return filtered_posts(filters).order_by().values("pk")


def _entities_only(filters: PostFilters) -> bool:
    """Whether one set of the collection's entities is all that narrows (a hashtag clicked, a hashtag community)."""
    others = (filters.accounts, filters.start, filters.end, filters.label, filters.score)
    return len(filters.entity_sets) == 1 and bool(filters.entity_sets[0]) and not filters.q and others == (None,) * 5


def _time_parts(filters: PostFilters) -> list[QuerySet[Post]]:
    """The filtered posts as one queryset, or one per account for a few accounts: each then walks its own
    ``(account, time)`` range, where PostgreSQL would walk the whole collection's ``(collection, time)`` index
    looking for a few quiet accounts' posts (150 ms for 5 accounts of 3,000 at 1.35 M posts)."""
    if filters.accounts is None or len(filters.accounts) <= 1:
        return [filtered_posts(filters)]
    if len(filters.accounts) > MERGED_ACCOUNTS_MAX:
        return [filtered_posts(filters, pin_collection=True)]
    return [filtered_posts(replace(filters, accounts=frozenset({pk}))) for pk in sorted(filters.accounts)]


def _time_page(parts: list[QuerySet[Post]], *, desc: bool, after: tuple | None, limit: int) -> list[dict]:
    """``limit + 1`` rows after ``after`` = (time or None, id) of the union of ``parts``: each part's own first
    ``limit + 1``, merged."""
    rows = [row for posts in parts for row in _time_part(posts, desc=desc, after=after, limit=limit)]
    if len(parts) == 1:
        return rows
    timed = sorted((r for r in rows if r["time"] is not None), key=lambda r: (r["time"], r["id"]), reverse=desc)
    untimed = sorted((r for r in rows if r["time"] is None), key=lambda r: r["id"], reverse=desc)
    return (timed + untimed)[: limit + 1]


def _time_part(posts: QuerySet[Post], *, desc: bool, after: tuple | None, limit: int) -> list[dict]:
    """``limit + 1`` rows after ``after`` = (time or None, id): first the timed posts in (time, id) order, then,
    once those run out, the untimed ones by id. Each part is a plain range over an index (a single query with
    ``OR time IS NULL`` would not be, and PostgreSQL's ``DESC NULLS LAST`` does not match a backward scan)."""
    order = ("-time", "-id") if desc else ("time", "id")
    rows: list[dict] = []
    if after is None or after[0] is not None:
        timed = posts.filter(time__isnull=False)
        if after is not None:
            when, pk = after
            if desc:
                timed = timed.filter(time__lte=when).filter(Q(time__lt=when) | Q(id__lt=pk))
            else:
                timed = timed.filter(time__gte=when).filter(Q(time__gt=when) | Q(id__gt=pk))
        rows = list(timed.order_by(*order).values(*POST_FIELDS)[: limit + 1])
    if len(rows) <= limit:
        untimed = posts.filter(time__isnull=True)
        if after is not None and after[0] is None:
            untimed = untimed.filter(id__lt=after[1]) if desc else untimed.filter(id__gt=after[1])
        rows += list(untimed.order_by(order[1]).values(*POST_FIELDS)[: limit + 1 - len(rows)])
    return rows


def _score_page(filters: PostFilters, *, desc: bool, after: tuple | None, limit: int) -> list[dict]:
    """``limit + 1`` rows after ``after`` = (score, post id), walking PostScore's (analysis, -score) index."""
    scored = _narrowed(_scores(filters), filters, via="post__")
    if after is not None:
        score, pk = after
        if desc:
            scored = scored.filter(score__lte=score).filter(Q(score__lt=score) | Q(post_id__lt=pk))
        else:
            scored = scored.filter(score__gte=score).filter(Q(score__gt=score) | Q(post_id__gt=pk))
    order = ("-score", "-post_id") if desc else ("score", "post_id")
    fields = [f for f in POST_FIELDS if f not in ("id", "account_id")]
    rows = scored.order_by(*order).values_list(
        "post_id", "account_id", "score", "unreliable", *(f"post__{f}" for f in fields)
    )
    return [
        {"id": pk, "account_id": account_id, "score": score, "unreliable": unreliable, **dict(zip(fields, values))}
        for pk, account_id, score, unreliable, *values in rows[: limit + 1]
    ]


def _handles(account_ids) -> dict[int, str]:
    rows = Account.objects.filter(pk__in=sorted(account_ids)).values_list("id", "handle", "platform_id")
    return {pk: handle or platform_id for pk, handle, platform_id in rows}


# Cursors: base64url of a small JSON array [sort, key, id]; the sort is kept so a cursor cannot continue another order.


def _cursor_after(row: dict, sort: str) -> str:
    key = row["score"] if sort in ("score", "-score") else (row["time"].isoformat() if row["time"] else None)
    raw = json.dumps([sort, key, row["id"]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str, *, sort: str) -> tuple:
    """(time or None, id) for time sorts, (score, post id) for score sorts; a ValidationError on ``cursor`` for
    anything a previous page's ``next`` (with the same sort) could not be."""
    bad = ValidationError({"cursor": ["Not a cursor of this sort: pass a previous page's next unchanged."]})
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        written, key, pk = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, TypeError, binascii.Error, UnicodeError):
        raise bad from None
    if written != sort or not _is_id(pk):
        raise bad
    if sort in ("score", "-score"):
        if isinstance(key, bool) or not isinstance(key, (int, float)) or not math.isfinite(key):
            raise bad
        return float(key), pk
    if key is None:
        return None, pk
    try:
        when = datetime.fromisoformat(key) if isinstance(key, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise bad
    return when, pk


# The timeline -----------------------------------------------------------------------------------


class _Bucket(Func):
    """The UTC day ("YYYY-MM-DD") or hour ("YYYY-MM-DD HH") a time falls in, as text. SQLite keeps times as UTC
    text, so it is a prefix (Django's Trunc functions call Python per row there); PostgreSQL formats it."""

    output_field = CharField()

    def __init__(self, expression, *, hour: bool):
        self.hour = hour
        super().__init__(expression)

    def as_sql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template=f"substr(%(expressions)s, 1, {13 if self.hour else 10})")

    def as_postgresql(self, compiler, connection, **extra):
        # date_trunc(...)::text reads "YYYY-MM-DD HH:00:00", of which the prefix is used; a third cheaper than to_char
        unit = "hour" if self.hour else "day"
        return super().as_sql(
            compiler, connection, template=f"date_trunc('{unit}', %(expressions)s AT TIME ZONE 'UTC')::text"
        )


def _bucket_iso(bucket: str) -> str:
    return f"{bucket[:10]}T{bucket[11:13] or '00'}:00:00Z"


def post_timeline(*, filters: PostFilters) -> dict:
    """``{"bin": "day"|"hour", "all": [[iso, n]...], "selected": [[iso, n]...] | None}``: posts per bin of the
    whole collection and of the filtered posts (None when no filter narrows), on the same bins: hours when the
    collection spans at most three days, else days. Buckets are their bin's start in UTC; empty bins are left
    out; posts without a time are in no bin."""
    collection = filters.collection
    stats = collection.stats if isinstance(collection.stats, dict) else {}
    hour = _spans_at_most(collection, stats, HOUR_BINS_UP_TO)
    if not hour and isinstance(stats.get("posts_per_day"), list):
        every = [[_bucket_iso(day), n] for day, n in stats["posts_per_day"]]  # the overview's, kept by every import
    elif not hour:
        every = [[_bucket_iso(day), n] for day, n in posts_per_day(collection.pk)]
    else:
        every = _binned(Post.objects.filter(collection_id=collection.pk), hour=True)
    selected = _selected(filters, hour=hour) if filters.narrows else None
    return {"bin": "hour" if hour else "day", "all": every, "selected": selected}


def _spans_at_most(collection: Collection, stats: dict, span: timedelta) -> bool:
    first, last = stats.get("first_post"), stats.get("last_post")
    if "posts_per_day" in stats and first and last:
        first, last = datetime.fromisoformat(first), datetime.fromisoformat(last)
    else:
        found = Post.objects.filter(collection_id=collection.pk).aggregate(first=Min("time"), last=Max("time"))
        first, last = found["first"], found["last"]
    return first is not None and last - first <= span


def _selected(filters: PostFilters, *, hour: bool) -> list[list]:
    """The filtered posts per bin; for one set of entities alone, from their interactions (which carry their
    post's time), each post once."""
    if _entities_only(filters):
        uses = Interaction.objects.filter(target_entity_id__in=filters.entity_sets[0])
        return _binned(uses, hour=hour, n=Count("post_id", distinct=True))
    return _binned(filtered_posts(filters), hour=hour)


def _binned(rows: QuerySet, *, hour: bool, n=None) -> list[list]:
    """Rows per bin of their ``time``. ``COUNT(*)`` (not of a column) lets PostgreSQL answer from an index."""
    rows = (
        rows.filter(time__isnull=False)
        .annotate(bucket=_Bucket("time", hour=hour))
        .order_by()
        .values("bucket")
        .annotate(n=n or Count("*"))
        .order_by("bucket")
    )
    return [[_bucket_iso(r["bucket"]), r["n"]] for r in rows]


# The account and post panels --------------------------------------------------------------------


def account_detail(*, investigation: Investigation, account_id: int) -> dict | None:
    """The account panel (None when the account is not in the investigation): facts, its posts' count and span,
    its scores per score analysis, the communities that hold it, its hybrid score with each signal's contribution
    (the latest hybrid analysis that scored it), its notes and DISARM tags."""
    account = Account.objects.select_related("collection").filter(
        pk=account_id, collection__investigation=investigation
    ).first()
    if account is None:
        return None
    span = Post.objects.filter(account_id=account.pk).aggregate(n=Count("*"), first=Min("time"), last=Max("time"))
    return {
        "id": account.pk,
        "platform_id": account.platform_id,
        "handle": account.handle or account.platform_id,
        "display_name": account.display_name,
        "labels": account.labels or {},
        "followers": account.followers,
        "following": account.following,
        "created": account.created,
        "placeholder": account.placeholder,
        "collection": {"id": account.collection_id, "name": account.collection.name},
        "posts": span["n"],
        "first_post": span["first"],
        "last_post": span["last"],
        "scores": _account_scores(investigation, account),
        "communities": _account_communities(investigation, account),
        "authorship": _account_authorship(investigation, account),
        "hybrid": hybrid_for_account(investigation, account.pk),
        "notes": _notes(investigation, TargetType.ACCOUNT, account.pk),
        "tags": _account_tags(investigation, account),
    }


def _score_analyses(investigation: Investigation) -> dict[int, Analysis]:
    rows = Analysis.objects.filter(investigation=investigation, kind=SCORE_KIND).defer("result")
    return {a.pk: a for a in rows.order_by("-created_at", "-id")}


def _account_scores(investigation: Investigation, account: Account) -> list[dict]:
    analyses = _score_analyses(investigation)
    rows = (
        PostScore.objects.filter(analysis_id__in=list(analyses), account_id=account.pk)
        .values("analysis_id")
        .annotate(mean=Avg("score"), max=Max("score"), posts=Count("id"))
        .order_by()
    )
    found = {r["analysis_id"]: r for r in rows}
    return [
        {"analysis": pk, "title": a.title, **{k: found[pk][k] for k in ("mean", "max", "posts")}}
        for pk, a in analyses.items()
        if pk in found
    ]


def _account_authorship(investigation: Investigation, account: Account) -> list[dict]:
    """Each authorship analysis of the account: its time-ordered test accuracy and its outliers, the account's own
    posts its model calls unlike the account (probability under one half: a hijack or a shared login), least
    like first."""
    out = []
    for analysis in Analysis.objects.filter(investigation=investigation, kind="authorship",
                                            params__account_id=account.pk).order_by("-created_at", "-id"):
        result = analysis.result or {}
        posts = [p for p in result.get("posts", []) if isinstance(p, dict)]
        outliers = [p for p in posts if isinstance(p.get("probability"), int | float) and p["probability"] < 0.5]
        out.append({
            "analysis": analysis.pk, "title": analysis.title, "test_accuracy": analysis.summary.get("test_accuracy"),
            "checked": len(posts), "outliers": len(outliers),
            "least_like": [{"text": p.get("text", ""), "probability": p["probability"]} for p in outliers[:3]],
            "url": reverse("analysis-detail", args=[analysis.pk]),
        })
    return out


def _account_communities(investigation: Investigation, account: Account) -> list[dict]:
    """Each stored network of accounts on the account's collection that has it as a node: its community there
    and that community's size (nodes with the same number). Only the nodes are read, not the edges."""
    networks = (
        Analysis.objects.filter(investigation=investigation, collection_id=account.collection_id)
        .filter(kind__in=NETWORK_KINDS)
        .exclude(kind__in=list(ENTITY_NETWORKS))
        .defer("result")
        .annotate(nodes=KeyTransform("nodes", "result"))
        .order_by("-created_at", "-id")
    )
    out = []
    for analysis in networks:
        nodes = [n for n in analysis.nodes or [] if isinstance(n, dict)]
        mine = next((n for n in nodes if n.get("id") == account.pk), None)
        if mine is None or mine.get("community") is None:
            continue
        size = sum(1 for n in nodes if n.get("community") == mine["community"])
        out.append({"analysis": analysis.pk, "title": analysis.title, "kind": analysis.kind,
                    "community": mine["community"], "size": size})
    return out


def _notes(investigation: Investigation, target_type: str, pk: int) -> list[dict]:
    notes = Note.objects.filter(
        investigation=investigation, target_type=target_type, **{f"target_ref__{target_type}": pk}
    ).select_related("author")
    return [
        {"id": n.pk, "html": n.html, "author": n.author.username if n.author else None, "updated_at": n.updated_at}
        for n in notes
    ]


def _account_tags(investigation: Investigation, account: Account) -> list[dict]:
    tags = TechniqueTag.objects.filter(
        investigation=investigation, target_type=TargetType.ACCOUNT, target_ref__account=account.pk
    ).select_related("technique")
    return [
        {"id": t.pk, "technique": t.technique.external_id, "name": t.technique.name, "seen_on": t.seen_on,
         "procedure": t.procedure}
        for t in tags
    ]


def post_detail(*, investigation: Investigation, post_id: int) -> dict | None:
    """The post panel (None when the post is not in the investigation): text, labels, its entities, its score in
    each score analysis (with the text model's attention page), its notes."""
    post = Post.objects.filter(pk=post_id, collection__investigation=investigation).first()
    if post is None:
        return None
    entities = (
        Interaction.objects.filter(post_id=post.pk, target_entity__isnull=False)
        .values("target_entity_id", "target_entity__kind", "target_entity__value")
        .distinct()
        .order_by("target_entity__kind", "target_entity__value")
    )
    return {
        "id": post.pk,
        "platform_id": post.platform_id,
        "time": post.time,
        "text": post.text,
        "kind": post.kind,
        "language": post.language,
        "labels": post.labels or {},
        "account": {"id": post.account_id, "handle": _handles([post.account_id]).get(post.account_id, "")},
        "entities": [
            {"id": e["target_entity_id"], "kind": e["target_entity__kind"], "value": e["target_entity__value"]}
            for e in entities
        ],
        "scores": _post_scores(investigation, post),
        "notes": _notes(investigation, TargetType.POST, post.pk),
    }


def _post_scores(investigation: Investigation, post: Post) -> list[dict]:
    analyses = _score_analyses(investigation)
    found = {
        pk: (score, unreliable)
        for pk, score, unreliable in PostScore.objects.filter(
            analysis_id__in=list(analyses), post_id=post.pk
        ).values_list("analysis_id", "score", "unreliable")
    }
    wanted = {a.params.get("model") for pk, a in analyses.items() if pk in found}
    models = set(
        TextModel.objects.filter(investigation=investigation, pk__in=[m for m in wanted if _is_id(m)]).values_list(
            "pk", flat=True
        )
    )

    def attention(analysis: Analysis) -> str | None:
        model = analysis.params.get("model")
        return reverse("text-model-post", kwargs={"pk": model, "post_pk": post.pk}) if model in models else None

    return [
        {"analysis": pk, "title": a.title, "score": found[pk][0], "unreliable": found[pk][1],
         "attention_url": attention(a)}
        for pk, a in analyses.items()
        if pk in found
    ]


# Stored networks ----------------------------------------------------------------------------------


def network_list(*, investigation: Investigation) -> list[dict]:
    """The investigation's stored networks, newest first, counted from their summaries (the result stays unread):
    ``nodes`` drawn, ``edges`` found (the drawing keeps the strongest)."""
    rows = (
        Analysis.objects.filter(investigation=investigation, kind__in=NETWORK_KINDS)
        .defer("result")
        .order_by("-created_at", "-id")
    )
    out = []
    for a in rows:
        summary = a.summary if isinstance(a.summary, dict) else {}
        nodes = summary.get("accounts", summary.get("hashtags"))
        out.append({"id": a.pk, "kind": a.kind, "title": a.title, "collection": a.collection_id,
                    "nodes": nodes, "edges": summary.get("edges"), "created_at": a.created_at})
    return out


def network_drawing(*, analysis: Analysis) -> dict:
    """The stored network as its page draws it (``NetworkKind.network_data``) with what the workspace needs
    beside: ``directed``, ``prefix``, ``noun``, ``node_type``, and, for entity networks (whose node ids are the
    entities' values), each node's Entity pk as ``entity``. A ValidationError on ``analysis`` for another kind."""
    if analysis.kind not in NETWORK_KINDS:
        raise ValidationError({"analysis": [f"Analysis {analysis.pk} ({analysis.kind}) stores no network to draw."]})
    data = dict(kind_get(analysis.kind).network_data(analysis) or {})
    result = analysis.result if isinstance(analysis.result, dict) else {}
    entity_network = analysis.kind in ENTITY_NETWORKS
    nodes = [n for n in data.get("nodes") or [] if isinstance(n, dict)]
    if entity_network:
        entities = entity_ids_by_value(analysis, [str(n.get("id")) for n in nodes])
        nodes = [{**n, "entity": entities.get(str(n.get("id")))} for n in nodes]
    return {
        **data,
        "id": analysis.pk,
        "kind": analysis.kind,
        "collection": analysis.collection_id,
        "directed": bool(data.get("directed", result.get("directed", analysis.kind == "coordination"))),
        "prefix": data.get("prefix") or ("#" if entity_network else "@"),
        "noun": data.get("noun") or ("hashtags" if entity_network else "accounts"),
        "node_type": "entity" if entity_network else "account",
        "nodes": nodes,
        "edges": [e for e in data.get("edges") or [] if isinstance(e, dict)],
    }


def network_active(*, analysis: Analysis, start: datetime | None, end: datetime | None) -> list:
    """The node ids that acted in [start, end): accounts that posted, entities that were used. One indexed
    probe per node (``EXISTS`` over ``(account, time)`` or the interactions' entity index), so a wide range
    costs no more than a narrow one."""
    if analysis.kind not in NETWORK_KINDS:
        raise ValidationError({"analysis": [f"Analysis {analysis.pk} ({analysis.kind}) stores no network."]})
    window = {**({"time__gte": start} if start else {}), **({"time__lt": end} if end else {})}
    node_ids = [n.get("id") for n in _stored_nodes(analysis) if isinstance(n, dict)]
    if analysis.kind in ENTITY_NETWORKS:
        by_value = entity_ids_by_value(analysis, [str(v) for v in node_ids])
        used = Interaction.objects.filter(target_entity_id=OuterRef("pk"), **window)
        active = _probe(Entity.objects.all(), sorted(set(by_value.values())), used)
        return [v for v in node_ids if by_value.get(str(v)) in active]
    posted = Post.objects.filter(account_id=OuterRef("pk"), **window)
    active = _probe(Account.objects.all(), sorted({v for v in node_ids if _is_id(v)}), posted)
    return [v for v in node_ids if v in active]


def _probe(rows: QuerySet, ids: list[int], acted: QuerySet) -> set[int]:
    found: set[int] = set()
    for start in range(0, len(ids), LOOKUP_BATCH):
        batch = rows.filter(pk__in=ids[start : start + LOOKUP_BATCH]).filter(Exists(acted))
        found.update(batch.values_list("pk", flat=True))
    return found


def utc(when: datetime) -> datetime:
    """An ISO time from a query string: naive means UTC."""
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)
