"""Reads for the hybrid account score (``apps.analyses.kinds.hybrid``): the stored analyses it stacks, each account's
signal from each of them, and one account's latest hybrid score with its contributions.

An analysis is found only inside the investigation given (another investigation's id is as absent as a missing
one); the caller has checked the user's access to that investigation (``analysis_get``, ``membership_get``)."""
from __future__ import annotations

from collections import Counter

from django.core.cache import cache
from django.db.models import Avg
from django.db.models.fields.json import KeyTransform

from apps.analyses.map_selectors import LATEST as LATEST  # the hybrid kind's default reference
from apps.analyses.map_selectors import analysis_in
from apps.analyses.models import Analysis, PostScore
from apps.analyses.selectors import BATCH_ROWS
from apps.common.ids import as_id

NETWORK_KINDS = ("coordination", "coaction")
OUTLIER_BELOW = 0.5  # an authorship model gives the account's own post a probability under this: not its author


def analysis_of(*, investigation, collection, kinds, ref) -> tuple[Analysis | None, str]:
    """(the analysis, "") or (None, why): ``ref`` is an id or "latest" (the collection's newest of ``kinds``); the
    embedding map's lookup (``map_selectors.analysis_in``), one place for both."""
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    return analysis_in(investigation=investigation, collection=collection, kinds=kinds, ref=ref)


def authorship_analyses(*, investigation, collection, refs) -> tuple[list[Analysis], str]:
    """The authorship analyses named (ids), or with "all" the newest of each account of the collection."""
    analyses = Analysis.objects.filter(investigation=investigation, kind="authorship", collection=collection)
    if [str(r).lower() for r in refs] == ["all"]:
        newest: dict = {}
        for analysis in analyses.order_by("created_at", "id").only("id", "params", "result", "created_at"):
            newest[analysis.params.get("account_id")] = analysis
        found = list(newest.values())
        return found, "" if found else f"The collection “{collection.name}” has no authorship analysis yet."
    found, missing = [], []
    for ref in refs:
        pk = as_id(ref)
        analysis = analyses.filter(pk=pk).first() if pk else None
        (found if analysis else missing).append(analysis or ref)
    if missing:
        return [], (f"No authorship analysis {', '.join(f'#{m}' for m in missing)} of the collection "
                    f"“{collection.name}” in this investigation (or “all”).")
    return found, ""


def content_means(*, analysis: Analysis) -> dict[int, float]:
    """{account pk: the mean score of its scored posts} of a ``score`` analysis."""
    rows = PostScore.objects.filter(analysis=analysis).values("account").annotate(mean=Avg("score"))
    return {row["account"]: float(row["mean"]) for row in rows.iterator(chunk_size=BATCH_ROWS)}


def network_signals(*, analysis: Analysis) -> tuple[dict[str, dict], dict]:
    """({"degree", "strength", "community_size"}: {account pk: value}, notes) from a stored coordination or co-action
    network. Degree counts distinct neighbours over the stored edges (the strongest ``edges_stored`` of
    ``edges_total``: a lower bound when capped); community size counts the nodes sharing the account's community.
    Accounts not in the network are left out here: the kind reads them as 0 (no significant edge)."""
    result = analysis.result
    neighbours: dict = {}
    for edge in result.get("edges", []):
        neighbours.setdefault(edge["source"], set()).add(edge["target"])
        neighbours.setdefault(edge["target"], set()).add(edge["source"])
    nodes = result.get("nodes", [])
    sizes = Counter(n.get("community", -1) for n in nodes)
    signals = {
        "degree": {n["id"]: float(len(neighbours.get(n["id"], ()))) for n in nodes},
        "strength": {n["id"]: float(n.get("strength") or 0.0) for n in nodes},
        "community_size": {n["id"]: float(sizes[n.get("community", -1)]) if n.get("community", -1) >= 0 else 1.0
                           for n in nodes},
    }
    notes = {"nodes": len(nodes), "edges_stored": result.get("edges_stored", len(result.get("edges", []))),
             "edges_total": result.get("edges_total", len(result.get("edges", [])))}
    return signals, notes


def authorship_shares(*, analyses: list[Analysis]) -> dict[int, float]:
    """{account pk: the share of its posts its authorship model puts under ``OUTLIER_BELOW``}. The stored ranking
    keeps the least-like posts first (up to the analysis's ``limit``), so past that limit this is a lower bound."""
    shares = {}
    for analysis in analyses:
        result, account = analysis.result, analysis.params.get("account_id")
        own = result.get("own_posts") or 0
        if account is None or not own:
            continue
        outliers = sum(1 for post in result.get("posts", []) if post.get("probability", 1.0) < OUTLIER_BELOW)
        shares[account] = outliers / own
    return shares


def hybrid_for_account(analysis_or_investigation, account_id: int) -> dict | None:
    """The account's score in a hybrid analysis, or in its investigation's latest hybrid analysis that scored it:
    {"analysis", "created_at", "probability", "logit", "intercept", "split", "label", "signals": [{"signal",
    "label", "value", "contribution"}] (largest effect first)}; None when no hybrid scored it."""
    if isinstance(analysis_or_investigation, Analysis):
        candidates = [analysis_or_investigation] if analysis_or_investigation.kind == "hybrid" else []
    else:
        candidates = Analysis.objects.filter(investigation=analysis_or_investigation, kind="hybrid").order_by(
            "-created_at", "-id").only("id", "created_at")
    for analysis in candidates:
        row = hybrid_row(analysis, account_id)
        if row is not None:
            return row
    return None


ACCOUNT_INDEX_TTL_S = 24 * 3600  # an analysis never changes: its account -> row map may be cached for a day


def _account_index(analysis: Analysis) -> dict[int, int]:
    """{account pk: its row} of a hybrid analysis's table, from Django's cache (Redis in production): built once per
    analysis from the stored account column alone, never from the whole table (megabytes at 100 k accounts)."""
    key = f"hybrid-account-index:{analysis.pk}:{analysis.created_at.timestamp()}"
    index = cache.get(key)
    if index is None:
        accounts = Analysis.objects.filter(pk=analysis.pk).annotate(
            _accounts=KeyTransform("account", KeyTransform("table", "result"))).values_list("_accounts", flat=True)
        index = {int(a): i for i, a in enumerate(accounts.first() or [])}
        cache.set(key, index, ACCOUNT_INDEX_TTL_S)
    return index


def hybrid_row(analysis: Analysis, account_id: int) -> dict | None:
    """The account's row of one hybrid analysis, or None where it did not score it. Reads the row's cells by JSON
    path (one value per column), so an account click costs a few values, not the stored table."""
    i = _account_index(analysis).get(account_id)
    if i is None:
        return None
    row = str(i)

    def cell(*path):
        expression = KeyTransform(path[0], "result")
        for step in path[1:]:
            expression = KeyTransform(step, expression)
        return expression

    head = Analysis.objects.filter(pk=analysis.pk).annotate(
        _signals=cell("signals"), _labels=cell("signal_labels"), _intercept=cell("intercept"),
    ).values("_signals", "_labels", "_intercept").first()
    labels = head["_labels"] or {}
    signals = head["_signals"] or list(labels)  # every signal has a label; older rows may lack the list
    heads = ("probability", "logit", "split", "label")
    columns = {f"c{n}": cell("table", column, row) for n, column in enumerate(heads)}
    for n, signal in enumerate(signals):
        columns[f"v{n}"] = cell("table", "values", signal, row)
        columns[f"k{n}"] = cell("table", "contributions", signal, row)
    found = Analysis.objects.filter(pk=analysis.pk).annotate(**columns).values(*columns).first()
    cells = [{"signal": s, "label": labels.get(s, s), "value": found[f"v{n}"], "contribution": found[f"k{n}"]}
             for n, s in enumerate(signals)]
    cells.sort(key=lambda r: -abs(r["contribution"] or 0.0))
    return {"analysis": analysis.pk, "created_at": analysis.created_at, "probability": found["c0"],
            "logit": found["c1"], "intercept": head["_intercept"], "split": found["c2"], "label": found["c3"],
            "signals": cells}
