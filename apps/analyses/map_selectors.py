"""Reads for the embedding map's other sources (``apps.analyses.kinds.embedding_map``): a stored analysis of the
map's collection named by id or "latest", a behaviour analysis's account embeddings, a network analysis's account
communities, and the posts behind each account.

An analysis is found only inside the investigation given (another investigation's id is as absent as a missing
one); the caller has checked the user's access to that investigation. Only the result's keys that are needed are
read (``KeyTransform``): a behaviour result or a stored network can hold megabytes that a map does not draw."""
from __future__ import annotations

from collections import Counter

from django.db.models import Count
from django.db.models.fields.json import KeyTransform

from apps.analyses.kinds.base import kind_label
from apps.analyses.models import Analysis
from apps.analyses.selectors import BATCH_ROWS
from apps.collections.models import Account, Entity, Interaction, Post
from apps.common.ids import as_id

LATEST = "latest"
BEHAVIOUR_KINDS = ("behaviour",)
# Stored networks whose nodes carry a community: of accounts, or (the hashtag network) of hashtags.
COMMUNITY_KINDS = ("coordination", "coaction", "retweet_network", "hashtag_network")
HASHTAG_KINDS = ("hashtag_network",)
VECTOR_KINDS = ("ties", "graph")  # ml.embedding.VECTOR_KINDS (not imported: ml stays out of the selectors' imports)


def analysis_in(*, investigation, collection, kinds: tuple[str, ...], ref) -> tuple[Analysis | None, str]:
    """(the analysis, "") or (None, a sentence): ``ref`` is an id, or "latest" (the collection's newest of
    ``kinds``); the analysis must be of this investigation and of this collection."""
    names = [kind_label(k)[:1].lower() + kind_label(k)[1:] for k in kinds]
    what = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    analyses = Analysis.objects.filter(investigation=investigation, kind__in=kinds).order_by("-created_at", "-id")
    if str(ref).strip().lower() == LATEST:
        found = analyses.filter(collection=collection).first()
        return (found, "") if found else (None, f"The collection “{collection.name}” has no {what} analysis yet.")
    pk = as_id(ref)
    found = analyses.filter(pk=pk).select_related("collection").first() if pk else None
    if found is None:
        return None, f"No {what} analysis #{str(ref).strip()[:40]} in this investigation (an id, or “latest”)."
    if found.collection_id != collection.pk:
        other = found.collection.name if found.collection else "several collections"
        return None, f"{kind_label(found.kind)} analysis #{pk} is of “{other}”, not of “{collection.name}”."
    return found, ""


def stored_key(analysis: Analysis, *path: str):
    """The value at ``path`` inside the analysis's result, read in the database (None when absent)."""
    expression = "result"
    for key in path:
        expression = KeyTransform(key, expression)
    return Analysis.objects.filter(pk=analysis.pk).values_list(expression, flat=True).first()


def embedding_kinds(analysis: Analysis) -> list[str]:
    """Which account embeddings ("ties", "graph") a behaviour analysis stored ([] for one that ran before they
    were kept); reads their shapes only."""
    return [k for k in VECTOR_KINDS if isinstance(stored_key(analysis, "embeddings", k, "shape"), list)]


def behaviour_vectors(*, analysis: Analysis, which: str) -> tuple[list, dict | None]:
    """(account ids, the packed matrix of their ``which`` embeddings, one row each in that order) of a behaviour
    analysis; ([], None) when it stored none."""
    stored = stored_key(analysis, "embeddings")
    if not isinstance(stored, dict) or not isinstance(stored.get(which), dict):
        return [], None
    return list(stored.get("account") or []), stored[which]


def own_accounts(*, collection, account_ids) -> set[int]:
    """The ids among ``account_ids`` that are accounts of ``collection`` (stand-in authors are none)."""
    ids, out = [a for a in account_ids if isinstance(a, int)], set()
    for start in range(0, len(ids), BATCH_ROWS):
        rows = Account.objects.filter(collection=collection, placeholder=False, pk__in=ids[start : start + BATCH_ROWS])
        out.update(rows.values_list("id", flat=True))
    return out


def posts_per_account(*, collection, account_ids) -> dict[int, int]:
    """{account: its posts in the collection} (what the map's hover and selection count)."""
    ids, out = list(account_ids), {}
    for start in range(0, len(ids), BATCH_ROWS):
        rows = Post.objects.filter(collection=collection, account_id__in=ids[start : start + BATCH_ROWS])
        out.update(rows.values("account_id").annotate(n=Count("id")).values_list("account_id", "n"))
    return out


def account_post_labels(*, collection, account_ids, key: str) -> dict[str, list]:
    """Posts of these accounts that carry the label ``key``, as columns ("id", "account", "labels")."""
    ids, columns = list(account_ids), {"id": [], "account": [], "labels": []}
    for start in range(0, len(ids), BATCH_ROWS):
        rows = Post.objects.filter(collection=collection, account_id__in=ids[start : start + BATCH_ROWS],
                                   labels__has_key=key)
        for pk, account, labels in rows.values_list("id", "account_id", "labels"):
            columns["id"].append(pk)
            columns["account"].append(account)
            columns["labels"].append(labels or {})
    return columns


def account_communities(*, analysis: Analysis, account_ids) -> dict[int, int]:
    """{account: its community} in a stored network, for the accounts of ``account_ids`` that have one. In a
    network of accounts, the node's own community; in a hashtag network, the community of most of the account's
    uses of the network's hashtags (ties: the lower community number)."""
    nodes = stored_key(analysis, "nodes")
    members = {n["id"]: n["community"] for n in nodes or [] if isinstance(n, dict) and _community(n) is not None}
    wanted = set(account_ids)
    if analysis.kind not in HASHTAG_KINDS:
        return {a: c for a, c in members.items() if a in wanted}
    return _hashtag_communities(analysis, members, wanted)


def _community(node: dict) -> int | None:
    value = node.get("community")
    return value if type(value) is int and value >= 0 else None


def _hashtag_communities(analysis: Analysis, members: dict, wanted: set) -> dict[int, int]:
    values = [str(v) for v in members]
    entities: dict[int, int] = {}  # entity pk -> community
    for start in range(0, len(values), BATCH_ROWS):
        rows = Entity.objects.filter(collection_id=analysis.collection_id, kind=Entity.Kind.HASHTAG,
                                     value__in=values[start : start + BATCH_ROWS])
        entities.update({pk: members[value] for pk, value in rows.values_list("id", "value")})
    uses: dict[int, Counter] = {}
    ids = sorted(entities)
    for start in range(0, len(ids), BATCH_ROWS):
        rows = Interaction.objects.filter(collection_id=analysis.collection_id, action=Interaction.Action.HASHTAG,
                                          target_entity_id__in=ids[start : start + BATCH_ROWS])
        for account, entity in rows.values_list("source_account_id", "target_entity_id").iterator(
                chunk_size=BATCH_ROWS):
            if account in wanted:
                uses.setdefault(account, Counter())[entities[entity]] += 1
    return {account: min(c for c, n in counts.items() if n == max(counts.values())) for account, counts in uses.items()}
