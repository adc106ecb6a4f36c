"""Reads of analyses (access control through ``member_object_get``) and the inputs detectors read."""
from __future__ import annotations

import math

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Mod

from apps.analyses.models import Analysis, PostScore, TextModel
from apps.collections.models import Account, Collection, Entity, Interaction, Post
from apps.collections.store import rows_max, store_read
from apps.investigations.models import Investigation, Role
from apps.investigations.selectors import member_object_get

# Other accounts' posts read as an authorship model's negatives. `authorship_report` uses as many
# negatives as the account has posts, picked from at most 20x that many, so 20,000 covers an account
# of 1,000 posts fully and a larger one well, while a 1.35 M-post collection never leaves the database.
NEGATIVES_CAP = 20_000
BATCH_ROWS = 5_000


def analysis_list(*, investigation: Investigation, kind: str | None = None) -> QuerySet[Analysis]:
    analyses = Analysis.objects.filter(investigation=investigation).select_related("collection", "job", "created_by")
    if kind:
        analyses = analyses.filter(kind=kind)
    return analyses.order_by("-created_at", "-id")


def analysis_get(*, user, analysis_id: int, role: str = Role.VIEWER) -> Analysis:
    queryset = Analysis.objects.select_related("investigation", "collection", "job", "created_by")
    return member_object_get(user=user, queryset=queryset, pk=analysis_id, role=role)


def account_find(*, collection: Collection, account: str) -> Account | None:
    """An account of the collection by handle (with or without "@", any case) or by platform id."""
    value = account.strip()
    if not value:
        return None
    accounts = Account.objects.filter(collection=collection)
    found = accounts.filter(platform_id=value).first()
    if found is None:
        found = accounts.filter(handle__iexact=value.removeprefix("@")).order_by("-observed", "id").first()
    return found


def account_choices(*, collection: Collection, query: str = "", limit: int = 50) -> list[dict]:
    """Accounts to pick from: those matching ``query`` (handle or display name), else the most prolific.

    Without a query the collection's overview already knows its top accounts, so no count runs on
    a large collection; with one, only the matching accounts' posts are counted.
    """
    query = query.strip().removeprefix("@")
    if not query:
        return [
            {"id": a["id"], "handle": a["handle"], "posts": a["posts"]}
            for a in (collection.stats or {}).get("top_accounts", [])
        ][:limit]
    matches = Account.objects.filter(collection=collection, observed=True).filter(
        Q(handle__icontains=query) | Q(display_name__icontains=query) | Q(platform_id=query)
    )
    ids = list(matches.order_by("handle", "id").values_list("id", flat=True)[:limit])
    counts = dict(
        Post.objects.filter(collection=collection, account_id__in=ids).values_list("account_id").annotate(n=Count("id"))
    )
    rows = Account.objects.filter(pk__in=ids).values("id", "handle", "platform_id")
    return sorted(
        ({"id": r["id"], "handle": r["handle"] or r["platform_id"], "posts": counts.get(r["id"], 0)} for r in rows),
        key=lambda r: (-r["posts"], r["handle"]),
    )


def account_get(*, collection: Collection, account_id: int) -> Account | None:
    return Account.objects.filter(collection=collection, pk=account_id).first()


def authorship_posts(*, collection: Collection, account: Account, negatives: int = NEGATIVES_CAP) -> dict[str, list]:
    """The columns ``ml.authorship`` reads (account, text, time, post_id, is_retweet): every post of
    ``account`` plus at most ``negatives`` original posts by other accounts, read as tuples in batches.

    The others are every k-th post by id (k = their count / ``negatives``): deterministic, so the same
    collection always gives the same model, and spread over the whole import rather than its first
    rows. Their account is "other:<id>", which no handle can equal.
    Posts without a time are left out (the model's test is the latest posts), and so are the posts of
    placeholder authors from the others: nobody knows whose they are, so they may be the account's own.
    """
    key = account_key(account)
    columns: dict[str, list] = {"account": [], "text": [], "time": [], "post_id": [], "is_retweet": []}
    own = Post.objects.filter(collection=collection, account_id=account.pk, time__isnull=False).order_by("time", "id")
    for platform_id, text, time, kind in own.values_list("platform_id", "text", "time", "kind").iterator(
        chunk_size=BATCH_ROWS
    ):
        _append(columns, key, platform_id, text, time, kind)
    others = (
        Post.objects.filter(collection=collection, time__isnull=False)
        .exclude(account_id=account.pk)
        .exclude(kind=Post.Kind.REPOST)
        .exclude(text="")
        .exclude(account_id__in=_placeholders(collection))
    )
    step = max(1, math.ceil(others.count() / max(negatives, 1)))
    if step > 1:
        others = others.annotate(pick=Mod("id", step)).filter(pick=0)
    rows = others.order_by("id").values_list("account_id", "platform_id", "text", "time", "kind")[:negatives]
    for account_id, platform_id, text, time, kind in rows.iterator(chunk_size=BATCH_ROWS):
        _append(columns, f"other:{account_id}", platform_id, text, time, kind)
    return columns


def _placeholders(collection: Collection) -> QuerySet:
    """The ids of the collection's placeholder authors, as a subquery (none in most collections)."""
    return Account.objects.filter(collection=collection, placeholder=True).values("id")


def placeholder_ids(*, collection: Collection) -> set[int]:
    """The stand-in authors of a text-only import's posts (an empty set for most collections)."""
    return set(_placeholders(collection).values_list("id", flat=True))


def account_key(account: Account) -> str:
    """How an account is named inside ``ml.authorship`` (and so in its messages): its handle."""
    return account.handle or account.platform_id


def _append(columns: dict, key: str, platform_id: str, text: str, time, kind: str) -> None:
    columns["account"].append(key)
    columns["text"].append(text)
    columns["time"].append(time)
    columns["post_id"].append(platform_id)
    columns["is_retweet"].append(kind == Post.Kind.REPOST)


# Coordination inputs. A whole analysis reads its columns from the collection's analysis store
# (``apps.collections.store``, Parquet): every event, as Arrow columns, with no ORM row on the way. Only where
# memory forces it (``ANALYSIS_ROWS_MAX`` rows) are the latest kept, and the run says what it left out.
# The evidence of one edge, read in a request, reads the two accounts' rows through their index
# (``coordination_events``, ``coaction_posts``: at most PAIR_EVENTS_CAP rows, the latest).
PAIR_EVENTS_CAP = 50_000  # one account's rows read for an edge's evidence, in the request
ENTITY_ACTIONS = ("hashtag", "url", "domain", "mention", "image")
COACTION_ACTIONS = ("repost", "url", "hashtag", "mention", "reply", "text")


def left_out_merge(*parts: dict) -> dict:
    """What bounded reads left out, together: {"rows_left_out", "left_out_before"} (the latest time cut)."""
    times = [p["left_out_before"] for p in parts if p.get("left_out_before")]
    return {"rows_left_out": sum(p.get("rows_left_out", 0) for p in parts), "left_out_before": max(times, default=None)}


def coordination_event_frame(*, collection: Collection, entity_types):
    """The influence model's events for a whole collection, from its analysis store, in the store's order (parts by
    name, rows as written: the same for the same collection; no sort, which cost as much as the read): a frame
    of account (Account pk), entity ("hashtag:maga"), entity_type, time (UTC), post_id; the rows the store holds
    (``total``) and what ``ANALYSIS_ROWS_MAX`` left out: (frame, {"total", "rows_left_out", "left_out_before"})."""
    import pyarrow.compute as pc

    from ml import columnar

    where = pc.field("action").isin(list(entity_types)) & pc.field("target").is_valid()
    table = store_read(collection, "interactions", ["account", "action", "target", "time", "post"], where)
    total = table.num_rows
    table, left_out = columnar.bounded(table, rows_max(), keep="latest")
    frame = columnar.frame(
        table,
        {"account": "account", "entity_type": "action", "time": "time", "post_id": "post"},
        entity=pc.binary_join_element_wise(table["action"], table["target"], ":"),
    )
    return frame[["account", "entity", "entity_type", "time", "post_id"]], {"total": total, **left_out}


def coaction_frame(*, collection: Collection, actions):
    """The co-action table of a whole collection from its analysis store (``coaction_posts`` explains the
    columns), links then texts, each in the store's order: (frame, {"total", "rows_left_out", "left_out_before"})."""
    import pandas as pd
    import pyarrow.compute as pc

    from ml import columnar

    frames, bounds, total = [], [], 0
    links = [a for a in actions if a != "text"]
    if links:
        columns = ["account", "action", "target", "target_post", "target_account", "time", "post"]
        table = store_read(collection, "interactions", columns, pc.field("action").isin(links))
        total += table.num_rows
        table, left_out = columnar.bounded(table, rows_max(), keep="latest")
        bounds.append(left_out)
        frames.append(columnar.frame(
            table, {"account": "account", "action": "action", "time": "time", "post_id": "post"},
            target=_coaction_targets, text="",
        ))
    if "text" in actions:
        where = (
            (pc.field("kind") != "repost") & (pc.field("text") != "") & pc.field("time").is_valid()
            & ~pc.field("placeholder")
        )
        table = store_read(collection, "posts", ["account", "time", "id", "text"], where)
        total += table.num_rows
        table, left_out = columnar.bounded(table, rows_max(), keep="latest")
        bounds.append(left_out)
        frames.append(columnar.frame(
            table, {"account": "account", "time": "time", "post_id": "id", "text": "text"}, action="text", target=None,
        ))
    order = ["account", "action", "target", "time", "post_id", "text"]
    frame = pd.concat([f[order] for f in frames], ignore_index=True) if frames else pd.DataFrame(columns=order)
    return frame, {"total": total, **left_out_merge(*bounds)}


def _coaction_targets(table):
    """repost/reply: "post:<original's platform id>", else "account:<pk>"; entities: "<action>:<value>"."""
    import pyarrow as pa
    import pyarrow.compute as pc

    account = pc.binary_join_element_wise("account", pc.cast(table["target_account"], pa.string()), ":")
    post = pc.if_else(pc.not_equal(table["target_post"], ""),
                      pc.binary_join_element_wise("post", table["target_post"], ":"), account)
    entity = pc.binary_join_element_wise(table["action"], table["target"], ":")
    return pc.if_else(pc.is_in(table["action"], pa.array(["repost", "reply"])), post, entity)


def coordination_events(
    *, collection: Collection, entity_types, account_ids=None, cap: int = PAIR_EVENTS_CAP
) -> dict[str, list]:
    """The influence model's events: account (Account pk), entity ("hashtag:maga"), entity_type,
    time, post_id, one per Interaction with an entity target. ``account_ids`` bounds it to a few accounts
    (an edge's evidence; a whole collection reads ``coordination_event_frame``).
    Posts without a time or with a placeholder author have no interactions, so none of their events."""
    rows = Interaction.objects.filter(collection=collection, action__in=list(entity_types), target_entity__isnull=False)
    if account_ids is not None:
        rows = rows.filter(source_account_id__in=list(account_ids))
    rows = rows.order_by("-time").values_list("source_account_id", "action", "target_entity__value", "time", "post_id")[
        :cap
    ]
    columns: dict[str, list] = {"account": [], "entity": [], "entity_type": [], "time": [], "post_id": []}
    for account, action, value, time, post in rows.iterator(chunk_size=BATCH_ROWS):
        columns["account"].append(account)
        columns["entity"].append(f"{action}:{value}")
        columns["entity_type"].append(action)
        columns["time"].append(time)
        columns["post_id"].append(post)
    return columns


def coaction_posts(*, collection: Collection, actions, account_ids=None, cap: int = PAIR_EVENTS_CAP) -> dict[str, list]:
    """The co-action table: account (pk), action, target, time, post_id, text.

    repost/reply: the original post's id, else its account ("account:<pk>"); url/hashtag/mention: the
    entity ("url:bbc.co.uk/news"); text: the post's own text (``ml`` clusters near-duplicates), for
    every post that is not a plain repost, has a time and a real author (interactions exist only for such
    posts: see ``apps.collections.ingest``)."""
    columns: dict[str, list] = {"account": [], "action": [], "target": [], "time": [], "post_id": [], "text": []}
    links = [a for a in actions if a != "text"]
    if links:
        rows = Interaction.objects.filter(collection=collection, action__in=links)
        if account_ids is not None:
            rows = rows.filter(source_account_id__in=list(account_ids))
        rows = rows.order_by("-time").values_list(
            "source_account_id",
            "action",
            "target_entity__value",
            "target_post_id",
            "target_account_id",
            "time",
            "post_id",
        )[:cap]
        for account, action, value, post_ref, account_ref, time, post in rows.iterator(chunk_size=BATCH_ROWS):
            if action in ("repost", "reply"):
                target = f"post:{post_ref}" if post_ref else (f"account:{account_ref}" if account_ref else None)
            else:
                target = f"{action}:{value}" if value else None
            _coaction_append(columns, account, action, target, time, post, "")
    if "text" in actions:
        posts = (
            Post.objects.filter(collection=collection, time__isnull=False)
            .exclude(kind=Post.Kind.REPOST)
            .exclude(text="")
            .exclude(account_id__in=_placeholders(collection))
        )
        if account_ids is not None:
            posts = posts.filter(account_id__in=list(account_ids))
        for account, text, time, post in (
            posts.order_by("-time")
            .values_list("account_id", "text", "time", "id")[:cap]
            .iterator(chunk_size=BATCH_ROWS)
        ):
            _coaction_append(columns, account, "text", None, time, post, text)
    return columns


def _coaction_append(columns: dict, account, action, target, time, post, text) -> None:
    for key, value in zip(
        ("account", "action", "target", "time", "post_id", "text"), (account, action, target, time, post, text)
    ):
        columns[key].append(value)


def accounts_described(*, collection: Collection, account_ids) -> dict[int, dict]:
    """{pk: {"handle", "platform_id", "labels"}} of the accounts a network names (pages show handles)."""
    out = {}
    ids = list(account_ids)
    for start in range(0, len(ids), BATCH_ROWS):
        rows = Account.objects.filter(collection=collection, pk__in=ids[start : start + BATCH_ROWS])
        for pk, handle, platform_id, labels in rows.values_list("id", "handle", "platform_id", "labels"):
            out[pk] = {"handle": handle or platform_id, "platform_id": platform_id, "labels": labels or {}}
    return out


def posts_described(*, collection: Collection, post_ids) -> dict[int, dict]:
    rows = Post.objects.filter(collection=collection, pk__in=list(post_ids)[:BATCH_ROWS])
    return {
        pk: {"platform_id": platform_id, "text": text}
        for pk, platform_id, text in rows.values_list("id", "platform_id", "text")
    }


# Text models and the labelled posts they train on.

TEXT_ROWS_CAP = 5_000_000  # ids + labels only (no text) are read before sampling: ~100 bytes a row


def text_model_list(*, investigation: Investigation) -> QuerySet[TextModel]:
    return (
        TextModel.objects.filter(investigation=investigation)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )


def text_model_get(*, user, model_id: int, role: str = Role.VIEWER) -> TextModel:
    queryset = TextModel.objects.select_related("investigation", "job", "created_by")
    return member_object_get(user=user, queryset=queryset, pk=model_id, role=role)


def text_model_of(*, investigation: Investigation, model_id) -> TextModel | None:
    """A model of this investigation, else None (a model of another one is as absent as a missing one)."""
    try:
        pk = int(model_id)
    except (TypeError, ValueError):
        return None
    return TextModel.objects.filter(investigation=investigation, pk=pk).first()


def text_posts(collection: Collection) -> QuerySet[Post]:
    """Posts a text model reads: with text, and not plain reposts (their text is someone else's)."""
    return Post.objects.filter(collection=collection).exclude(kind=Post.Kind.REPOST).exclude(text="")


def label_values(*, collection: Collection, source: str, key: str, limit: int = 50) -> list[str]:
    """The distinct values of an account or post label in the collection (as text), at most ``limit``."""
    from django.db.models.fields.json import KT

    if source == "account_label":  # accounts are few: read their labels whole
        rows = Account.objects.filter(collection=collection, labels__has_key=key).values_list("labels", flat=True)
        return sorted({label_text(labels.get(key)) for labels in rows.iterator(chunk_size=BATCH_ROWS)})[:limit]
    rows = text_posts(collection).filter(labels__has_key=key).annotate(value=KT(f"labels__{key}"))
    return [label_text(v) for v in rows.values_list("value", flat=True).distinct().order_by("value")[:limit]]


def label_text(value) -> str:
    """A label value as the pages and parameters write it: JSON true/false as "true"/"false"."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def labelled_post_ids(
    *,
    collection: Collection,
    source: str,
    key: str = "",
    positive=(),
    label: int | None = None,
    cap: int = TEXT_ROWS_CAP,
) -> list[tuple[int, int]]:
    """(post id, label 0/1) of the posts that carry a label: ``account_label``/``post_label`` → 1 when the
    value is one of ``positive``, else 0; ``collections`` → every post gets ``label``."""
    posts = text_posts(collection)
    if source == "collections":
        return [
            (pk, label)
            for pk in posts.order_by("id").values_list("id", flat=True)[:cap].iterator(chunk_size=BATCH_ROWS)
        ]
    field = "account__labels" if source == "account_label" else "labels"
    rows = posts.filter(**{f"{field}__has_key": key}).order_by("id").values_list("id", field)[:cap]
    positive = {str(v) for v in positive}
    return [(pk, int(label_text(labels.get(key)) in positive)) for pk, labels in rows.iterator(chunk_size=BATCH_ROWS)]


def post_texts(*, post_ids) -> dict[str, list]:
    """Columns post_id, text, group (the account's platform id: one account across collections), time (None where
    unknown), in id order."""
    columns: dict[str, list] = {"post_id": [], "text": [], "group": [], "time": []}
    ids = sorted(post_ids)
    for start in range(0, len(ids), BATCH_ROWS):
        rows = Post.objects.filter(pk__in=ids[start : start + BATCH_ROWS]).order_by("id")
        for pk, text, group, time in rows.values_list("id", "text", "account__platform_id", "time"):
            columns["post_id"].append(pk)
            columns["text"].append(text)
            columns["group"].append(group)
            columns["time"].append(time)
    return columns


def collection_fingerprint(collection: Collection) -> dict:
    from django.db.models import Max

    posts = Post.objects.filter(collection=collection)
    return {
        "id": collection.pk,
        "name": collection.name,
        "posts": posts.count(),
        "max_post_id": posts.aggregate(m=Max("id"))["m"],
    }


# Per-post scores of a ``score`` analysis. The caller fetched the analysis through
# ``analysis_get`` (access checked there); the orders follow the (analysis, -score) index, id breaking ties.

POST_SCORE_ORDERS = {"high": ("-score", "id"), "low": ("score", "-id")}


def post_score_list(*, analysis: Analysis, order: str = "high", account_id: int | None = None) -> QuerySet[PostScore]:
    """Every scored post of the analysis, highest (``high``) or lowest (``low``) score first, or one account's."""
    if order not in POST_SCORE_ORDERS:
        raise ValueError(f"order must be one of {', '.join(POST_SCORE_ORDERS)}; got {order!r}")
    rows = PostScore.objects.filter(analysis=analysis).select_related("post", "account")
    if account_id is None:
        return rows.order_by(*POST_SCORE_ORDERS[order])
    # One account's posts are few: sorting by an expression keeps SQLite from walking the (analysis, -score)
    # index over every post of the analysis, so it finds them through the (analysis, account) index.
    score = F("score") * 1.0
    return rows.filter(account_id=account_id).order_by(
        *((score.desc(), "id") if order == "high" else (score.asc(), "-id"))
    )


def post_of_investigation(*, investigation_id: int, post_id) -> Post | None:
    """A post of one of the investigation's collections, else None (another's post is as absent as a missing one)."""
    try:
        pk = int(post_id)
    except (TypeError, ValueError):
        return None
    if not 0 < pk < 2**63:  # beyond a bigint: no such post (PostgreSQL would refuse the query)
        return None
    return (
        Post.objects.select_related("account", "collection")
        .filter(pk=pk, collection__investigation=investigation_id)
        .first()
    )


def post_stored_scores(*, model: TextModel, post: Post) -> list[dict]:
    """The post's stored scores from the model's ``score`` analyses, newest first:
    [{"analysis", "score", "ood", "shift", "unreliable"}] (``ood``: the post's distance to the training posts;
    ``shift``: its shift probability; ``unreliable``: the stored mark; None where not measured)."""
    analyses = {
        a.pk: a
        for a in Analysis.objects.filter(
            investigation=model.investigation_id, kind="score", params__model=model.pk, collection=post.collection_id
        )
    }
    rows = PostScore.objects.filter(analysis__in=list(analyses), post=post.pk)
    rows = rows.values_list("analysis_id", "score", "ood", "shift", "unreliable")
    found = [{"analysis": analyses[a], "score": s, "ood": d, "shift": p, "unreliable": u} for a, s, d, p, u in rows]
    return sorted(found, key=lambda r: r["analysis"].created_at, reverse=True)


def text_model_scorings(*, model: TextModel) -> QuerySet[Analysis]:
    """The model's ``score`` analyses, newest first (each links to its scored posts)."""
    return analysis_list(investigation=model.investigation, kind="score").filter(params__model=model.pk)


# Networks whose node ids are entity values (not account pks), and the entity kind those values name.
ENTITY_NETWORKS = {"hashtag_network": Entity.Kind.HASHTAG}
ENTITY_LOOKUP_BATCH = 900  # values per IN (...): under SQLite's oldest variable limit


def entity_ids_by_value(analysis: Analysis, values: list[str]) -> dict[str, int]:
    """{value: Entity pk} of an entity network's node ids in the analysis's collection (values it lacks are absent)."""
    kind = ENTITY_NETWORKS[analysis.kind]
    out: dict[str, int] = {}
    for start in range(0, len(values), ENTITY_LOOKUP_BATCH):
        rows = Entity.objects.filter(
            collection_id=analysis.collection_id, kind=kind, value__in=values[start : start + ENTITY_LOOKUP_BATCH]
        )
        out.update(rows.values_list("value", "id"))
    return out
