"""The collection overview's aggregates, recomputed at the end of every import.

The overview is read far more often than a collection changes, so it reads one stored JSON document
instead of grouping millions of rows per page view.
"""
from __future__ import annotations

from django.db import connection
from django.db.models import Count
from django.utils import timezone

from apps.collections.models import Account, Collection, Entity, Interaction, Post


def collection_stats_refresh(*, collection: Collection, top: int = 20) -> dict:
    """Recompute the overview's aggregates (counts, posts per day, top accounts, entities, labels).

    Posts without a time count as posts but not in the span or per day ("posts_without_time"); the
    placeholder authors of posts whose file named none are no accounts ("posts_without_account")."""
    posts = Post.objects.filter(collection=collection)
    span = posts.filter(time__isnull=False).order_by("time").values_list("time", flat=True)
    real = Account.objects.filter(collection=collection, placeholder=False)
    stats = {
        "posts": posts.count(),
        "posts_without_time": posts.filter(time__isnull=True).count(),
        # one placeholder per post, so counting them counts their posts (without joining every post)
        "posts_without_account": Account.objects.filter(collection=collection, placeholder=True).count(),
        "accounts": real.filter(observed=True).count(),
        "referenced_accounts": real.filter(observed=False).count(),
        "entities": dict(
            Entity.objects.filter(collection=collection).values_list("kind").annotate(n=Count("id")).order_by()
        ),
        "interactions": dict(
            Interaction.objects.filter(collection=collection).values_list("action").annotate(n=Count("id")).order_by()
        ),
        "post_kinds": dict(posts.values_list("kind").annotate(n=Count("id")).order_by()),
        "first_post": span.first().isoformat() if span.exists() else None,
        "last_post": span.last().isoformat() if span.exists() else None,
        "posts_per_day": posts_per_day(collection.pk),
        "top_accounts": [
            {"id": i, "handle": h or p, "posts": n}
            for i, h, p, n in posts.filter(account__placeholder=False)
            .values_list("account_id", "account__handle", "account__platform_id")
            .annotate(n=Count("id"))
            .order_by("-n")[:top]
        ],
        "top_hashtags": _top_entities(collection, "hashtag", top),
        "top_domains": _top_entities(collection, "domain", top),
        "top_mentions": _top_entities(collection, "mention", top),
        "labels": _label_distribution(collection),
    }
    Collection.objects.filter(pk=collection.pk).update(stats=stats, stats_updated_at=timezone.now())
    collection.stats = stats
    return stats


def _top_entities(collection: Collection, kind: str, top: int) -> list[list]:
    rows = (
        Interaction.objects.filter(collection=collection, action=kind)
        .values_list("target_entity__value")
        .annotate(n=Count("id"))
        .order_by("-n")[:top]
    )
    return [[value, n] for value, n in rows]


def _label_distribution(collection: Collection) -> dict:
    """{"account": {key: {value: accounts}}, "post": {key: {value: posts}}}."""
    out: dict = {"account": {}, "post": {}}
    accounts = Account.objects.filter(collection=collection, observed=True, placeholder=False)
    for labels in accounts.values_list("labels", flat=True).iterator():
        _count_labels(out["account"], labels or {}, 1)
    for labels, n in (
        Post.objects.filter(collection=collection).values_list("labels").annotate(n=Count("id")).order_by()
    ):
        _count_labels(out["post"], labels or {}, n)
    return out


def _count_labels(into: dict, labels: dict, n: int) -> None:
    for key, value in labels.items():
        bucket = into.setdefault(str(key), {})
        bucket[str(value)] = bucket.get(str(value), 0) + n


def posts_per_day(collection_id: int) -> list[list]:
    """[[YYYY-MM-DD, posts], ...] in UTC, of the posts with a time. SQLite keeps times as UTC text, so the
    day is its first ten characters (Django's TruncDate would call a Python function per row there)."""
    day = "substr(time, 1, 10)" if connection.vendor == "sqlite" else "to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {day} AS day, COUNT(*) FROM {Post._meta.db_table} WHERE collection_id = %s AND time IS NOT NULL "
            "GROUP BY day ORDER BY day",
            [collection_id],
        )
        return [[d, n] for d, n in cursor.fetchall()]
