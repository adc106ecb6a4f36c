"""Reads for the hybrid account score (``apps.analyses.kinds.hybrid``): the stored analyses it stacks, each account's
signal from each of them, and one account's latest hybrid score with its contributions.

An analysis is found only inside the investigation given (another investigation's id is as absent as a missing
one); the caller has checked the user's access to that investigation (``analysis_get``, ``membership_get``)."""
from __future__ import annotations

from collections import Counter

from django.db.models import Avg

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
            "-created_at", "-id")
    for analysis in candidates:
        row = hybrid_row(analysis, account_id)
        if row is not None:
            return row
    return None


def hybrid_row(analysis: Analysis, account_id: int) -> dict | None:
    table = analysis.result.get("table", {})
    try:
        i = table.get("account", []).index(account_id)
    except ValueError:
        return None
    labels = analysis.result.get("signal_labels", {})
    signals = [{"signal": s, "label": labels.get(s, s), "value": table["values"][s][i],
                "contribution": table["contributions"][s][i]} for s in table.get("contributions", {})]
    signals.sort(key=lambda r: -abs(r["contribution"]))
    return {"analysis": analysis.pk, "created_at": analysis.created_at, "probability": table["probability"][i],
            "logit": table["logit"][i], "intercept": analysis.result.get("intercept"), "split": table["split"][i],
            "label": table["label"][i], "signals": signals}
