"""Reads for the behaviour kind (TIES): every account's interactions as plain columns, and its labels.

Kept apart from ``apps.analyses.selectors`` so the behaviour model's reads live in one place."""
from __future__ import annotations

from apps.analyses.selectors import BATCH_ROWS, EVENTS_CAP, label_text
from apps.collections.models import Account, Collection, Interaction, Post

ACCOUNT_ACTIONS = ("repost", "quote", "reply")


def behaviour_interactions(*, collection: Collection, cap: int = EVENTS_CAP) -> tuple[dict[str, list], bool]:
    """(columns, capped): account (pk), action, target ("type:value"), time (epoch seconds), the most recent
    ``cap`` rows in all.

    A plain post is a "post" step on itself ("post:<platform id>"); a repost, quote or reply points at the
    original ("post:<its platform id>", else "account:<pk>" when only its author is known); hashtags, URLs,
    domains, mentions and images are entities ("hashtag:maga"). Posts without a time or by a stand-in author
    take no step (ingest derives no interactions for them either)."""
    columns: dict[str, list] = {"account": [], "action": [], "target": [], "time": []}
    rows = Interaction.objects.filter(collection=collection).order_by("-time").values_list(
        "source_account_id", "action", "target_entity__kind", "target_entity__value", "target_post_id",
        "target_account_id", "time",
    )[:cap]
    for account, action, kind, value, post_ref, account_ref, time in rows.iterator(chunk_size=BATCH_ROWS):
        if action in ACCOUNT_ACTIONS:
            target = f"post:{post_ref}" if post_ref else (f"account:{account_ref}" if account_ref else "")
        else:
            target = f"{kind or action}:{value}" if value else ""
        if target:
            _append(columns, account, action, target, time.timestamp())
    capped = len(columns["account"]) >= cap
    posts = Post.objects.filter(collection=collection, kind=Post.Kind.POST, time__isnull=False).exclude(
        account__placeholder=True
    )
    for account, platform_id, time in posts.order_by("-time").values_list("account_id", "platform_id", "time")[
        :cap
    ].iterator(chunk_size=BATCH_ROWS):
        _append(columns, account, "post", f"post:{platform_id}", time.timestamp())
    return columns, capped


def _append(columns: dict, account, action, target, time) -> None:
    columns["account"].append(account)
    columns["action"].append(action)
    columns["target"].append(target)
    columns["time"].append(time)


def account_label_values(*, collection: Collection, key: str) -> dict[int, str]:
    """{account pk: the value of its label ``key``, as text} for the accounts that carry it (no stand-ins)."""
    rows = Account.objects.filter(collection=collection, labels__has_key=key, placeholder=False)
    return {pk: label_text((labels or {}).get(key))
            for pk, labels in rows.values_list("id", "labels").iterator(chunk_size=BATCH_ROWS)}


def accounts_handles(*, collection: Collection, account_ids) -> dict[int, str]:
    ids, out = list(account_ids), {}
    for start in range(0, len(ids), BATCH_ROWS):
        rows = Account.objects.filter(collection=collection, pk__in=ids[start : start + BATCH_ROWS])
        out.update({pk: handle or platform_id for pk, handle, platform_id in rows.values_list(
            "id", "handle", "platform_id")})
    return out
