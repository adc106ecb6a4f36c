"""Reads for the behaviour kind (TIES): every account's interactions as plain columns, and its labels.

Kept apart from ``apps.analyses.selectors`` so the behaviour model's reads live in one place. The steps come from
the collection's analysis store (``apps.collections.store``, Parquet) as Arrow columns, with no ORM row on the way
and no silent cap: only where memory forces it (``STEPS_MAX``, or ``ANALYSIS_ROWS_MAX`` if lower) are the latest
kept, and the run says what it left out. Labels and handles are per account (few rows) and still read from the
database."""
from __future__ import annotations

from apps.analyses.selectors import BATCH_ROWS, label_text
from apps.collections.models import Account, Collection
from apps.collections.store import rows_max, store_read

ACCOUNT_ACTIONS = ("repost", "quote", "reply")
# The behaviour model turns every step into Python objects (a few hundred bytes each: ``ml.behaviour``'s frame),
# so it holds fewer rows than the network kinds' ``ANALYSIS_ROWS_MAX``: 5 M steps is about 1.5 GB. Over it the
# latest are kept (TIES reads each account's most recent 512 steps) and the run says what it left out.
STEPS_MAX = 5_000_000


def behaviour_interactions(*, collection: Collection) -> tuple[dict, dict]:
    """(columns, bound): account (pk, int64), action, target ("type:value"), time (float epoch seconds), as numpy
    arrays in the store's order (interaction steps, then post steps); and {"total", "rows_left_out",
    "left_out_before"}: the steps the store holds and what ``ANALYSIS_ROWS_MAX`` left out (the earliest).

    A plain post is a "post" step on itself ("post:<platform id>"); a repost, quote or reply points at the
    original ("post:<its platform id>", else "account:<pk>" when only its author is known); hashtags, URLs,
    domains, mentions and images are entities ("hashtag:maga"). Posts without a time or by a stand-in author
    take no step (ingest derives no interactions for them either)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from ml import columnar

    interactions = store_read(
        collection, "interactions", ["account", "action", "target", "target_post", "target_account", "time"]
    )
    where = (pc.field("kind") == "post") & pc.field("time").is_valid() & ~pc.field("placeholder")
    posts = store_read(collection, "posts", ["account", "platform_id", "time"], where)
    steps = pa.concat_tables([_interaction_steps(interactions), _post_steps(posts)])
    total = steps.num_rows
    steps, left_out = columnar.bounded(steps, min(rows_max(), STEPS_MAX), keep="latest")
    microseconds = pc.cast(steps["time"], pa.int64()).to_numpy()
    columns = {
        "account": steps["account"].to_numpy(),
        "action": steps["action"].to_numpy(),
        "target": steps["target"].to_numpy(),
        "time": microseconds.astype("float64") / 1e6,  # exactly datetime.timestamp(): µs < 2**53
    }
    return columns, {"total": total, **left_out}


def _interaction_steps(table):
    """The interactions with a target, as (account, action, target, time); a row whose target is unknown (no post
    id nor account for an account action, a blank entity) takes no step."""
    import pyarrow as pa
    import pyarrow.compute as pc

    none = pa.scalar(None, pa.string())
    post_ref = pc.fill_null(table["target_post"], "")
    by_account = pc.binary_join_element_wise("account", pc.cast(table["target_account"], pa.string()), ":")
    original = pc.if_else(pc.not_equal(post_ref, ""), pc.binary_join_element_wise("post", post_ref, ":"), by_account)
    value = pc.fill_null(table["target"], "")
    entity = pc.if_else(pc.not_equal(value, ""), pc.binary_join_element_wise(table["action"], value, ":"), none)
    target = pc.if_else(pc.is_in(table["action"], pa.array(ACCOUNT_ACTIONS)), original, entity)
    steps = pa.table({"account": table["account"], "action": table["action"], "target": target,
                      "time": table["time"]})
    return steps.filter(pc.is_valid(target))


def _post_steps(table):
    """Each plain post as a "post" step on itself."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pa.table({
        "account": table["account"],
        "action": pa.repeat(pa.scalar("post", pa.string()), table.num_rows),
        "target": pc.binary_join_element_wise("post", table["platform_id"], ":"),
        "time": table["time"],
    })


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
