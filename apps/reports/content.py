"""What a report says, read once from the investigation: every renderer (HTML, PDF, Markdown, STIX, MISP, CSV)
draws from the same ``Content``, so the formats cannot disagree.

Reads only (the job that calls it is the only caller, and it has the investigation). Everything is bounded: the
top posts and accounts of each score analysis, the largest communities of each network, the strongest edges, the
newest audit entries. Links into the portal are absolute when the report knows the portal's address (``base_url``,
from the request that started it), else relative.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from apps.analyses.kinds.base import kind_label
from apps.analyses.models import Analysis, PostScore, TextModel
from apps.analyses.selectors import accounts_described, analysis_list
from apps.audit.models import AuditEntry
from apps.collections.models import Account, Interaction
from apps.collections.selectors import collection_list
from apps.common.ids import as_id
from apps.investigations.models import Investigation
from apps.jobs.models import Job
from apps.notes.models import Note, TargetType
from apps.notes.selectors import disarm_evidence, with_targets
from apps.pins.models import Pin
from apps.pins.selectors import storyline_get
from apps.reports.models import Section
from apps.reports.rendering import note_report_html, note_report_markdown

SCORE_KIND = "score"
NETWORK_KINDS = ("coordination", "coaction", "retweet_network", "hashtag_network")
NETWORK_EXPORTS = ("gexf", "graphml", "csv")
ACCOUNT_NETWORKS = ("coordination", "coaction", "retweet_network")  # nodes are accounts (hashtags: entities)
TOP_POSTS = 25            # per score analysis
TOP_ACCOUNTS = 25         # per score analysis
EVIDENCE_POSTS = 3        # per flagged account, in the exchange formats
EXCHANGE_ACCOUNTS = 500   # flagged accounts carried by STIX and MISP
TOP_COMMUNITIES = 10      # per network analysis
COMMUNITY_MEMBERS = 10
EDGES_MAX = 500           # per network analysis, strongest first, in STIX
URLS_MAX = 200            # MISP url attributes
AUDIT_MAX = 2_000
METRIC_KEYS = ("n", "positives", "auc", "average_precision", "f1", "precision", "recall", "mcc", "accuracy",
               "threshold")

Progress = Callable[[float, str], None]


@dataclass
class Content:
    investigation: Investigation
    sections: list[str]
    base_url: str
    generated_at: datetime
    generated_by: str
    collections: list[dict] = field(default_factory=list)
    analyses: list[dict] = field(default_factory=list)
    storyline: list[dict] = field(default_factory=list)
    flagged: list[dict] = field(default_factory=list)
    communities: list[dict] = field(default_factory=list)
    disarm: list[dict] = field(default_factory=list)
    methods: list[dict] = field(default_factory=list)
    audit: list[dict] = field(default_factory=list)
    audit_total: int = 0
    # The exchange formats' extras: flagged accounts with their evidence, coordination edges, notes, URLs.
    accounts: dict[int, dict] = field(default_factory=dict)
    edges: list[dict] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)
    techniques: list[dict] = field(default_factory=list)
    urls: list[dict] = field(default_factory=list)
    cited: set[int] = field(default_factory=set)

    def has(self, section: str) -> bool:
        return section in self.sections

    def link(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}{path}" if self.base_url else path

    @property
    def figures(self) -> dict[str, bytes]:
        """The storyline's PNGs by file name (``pin-<id>.png``)."""
        return {item["figure"]: item["png"] for item in self.storyline if item.get("png")}


def report_content(*, investigation: Investigation, sections: list[str], base_url: str = "", user=None,
                   exchange: bool = False, min_weight: float = 0.0, progress: Progress | None = None) -> Content:
    """Read every chosen section, in the documents' order; ``exchange``: also what STIX, MISP and CSV carry."""
    progress = progress or (lambda fraction, stage: None)
    content = Content(investigation=investigation, sections=[s for s in Section.values if s in sections],
                      base_url=base_url, generated_at=timezone.now(),
                      generated_by=user.get_username() if user is not None else "")
    steps = [
        (Section.SUMMARY, "Reading collections and analyses", _summary),
        (Section.STORYLINE, "Reading the storyline", _storyline),
        (Section.FLAGGED, "Reading flagged accounts and posts", _flagged),
        (Section.COMMUNITIES, "Reading coordination communities", _communities),
        (Section.DISARM, "Reading DISARM techniques", _disarm),
        (Section.AUDIT, "Reading the audit trail", _audit),
    ]
    for index, (section, stage, read) in enumerate(steps):
        if content.has(section):
            progress(0.05 + 0.5 * index / len(steps), stage)
            read(content)
    if content.has(Section.METHODS):
        progress(0.55, "Reading methods and provenance")
        _methods(content)
    if exchange:
        progress(0.6, "Reading evidence for the exchange formats")
        _exchange(content, min_weight=min_weight)
    return content


# Summary ----------------------------------------------------------------------------------------


def _summary(content: Content) -> None:
    for collection in collection_list(investigation=content.investigation):
        stats = collection.stats or {}
        content.collections.append({
            "id": collection.pk, "name": collection.name, "posts": stats.get("posts", 0),
            "accounts": stats.get("accounts", 0), "first_post": stats.get("first_post"),
            "last_post": stats.get("last_post"), "created_at": collection.created_at,
            "url": content.link(reverse("collection-detail", args=[collection.pk])),
        })
    for analysis in analysis_list(investigation=content.investigation).defer("result"):
        content.analyses.append(_analysis_row(content, analysis))
        content.cited.add(analysis.pk)


def _analysis_row(content: Content, analysis: Analysis) -> dict:
    return {
        "id": analysis.pk, "title": analysis.title, "kind": analysis.kind, "kind_label": kind_label(analysis.kind),
        "collection": analysis.collection.name if analysis.collection else "(several)",
        "created_at": analysis.created_at,
        "created_by": analysis.created_by.get_username() if analysis.created_by else "",
        "summary": _short(analysis.summary), "url": content.link(reverse("analysis-detail", args=[analysis.pk])),
    }


def _short(summary: dict, limit: int = 6) -> str:
    """A stored summary as one line: its first few simple values."""
    parts = [f"{k.replace('_', ' ')}: {v}" for k, v in (summary or {}).items()
             if isinstance(v, str | int | float) and not isinstance(v, bool)]
    return "; ".join(parts[:limit])


# Storyline --------------------------------------------------------------------------------------


def _storyline(content: Content) -> None:
    items = storyline_get(investigation=content.investigation)
    pin_ids = [item.pin_id for item in items if item.pin_id]
    pngs = dict(Pin.objects.filter(pk__in=pin_ids, thumbnail__isnull=False).values_list("pk", "thumbnail"))
    notes = with_targets(investigation=content.investigation, items=[i.note for i in items if i.note is not None])
    described = {note.pk: note.described for note in notes}
    for step, item in enumerate(items, start=1):
        row = {"step": step, "kind": item.kind, "text": item.text}
        if item.pin is not None:
            pin = item.pin
            row.update(pin_id=pin.pk, caption=pin.caption, url=content.link(pin.url),
                       png=bytes(pngs[pin.pk]) if pin.pk in pngs else None, figure=f"pin-{pin.pk}.png",
                       created_by=_name(pin.created_by), created_at=pin.created_at)
        else:
            note = item.note
            target = described.get(note.pk)
            row.update(note_id=note.pk, html=note_report_html(note.body, base_url=content.base_url),
                       markdown=note_report_markdown(note.body), author=_name(note.author),
                       updated_at=note.updated_at, target=target.label if target else "")
        content.storyline.append(row)


def _name(user) -> str:
    return user.get_username() if user is not None else "(deleted user)"


# Flagged accounts and posts ---------------------------------------------------------------------


def _flagged(content: Content) -> None:
    for analysis in analysis_list(investigation=content.investigation, kind=SCORE_KIND):
        result = analysis.result or {}
        threshold = float(result.get("threshold", 0.5))
        model = TextModel.objects.filter(investigation=content.investigation, pk=result.get("model")).first()
        posts = (PostScore.objects.filter(analysis=analysis).select_related("post", "account")
                 .order_by("-score", "id")[:TOP_POSTS])
        content.flagged.append({
            **_analysis_row(content, analysis),
            "threshold": threshold, "threshold_from": result.get("threshold_from", "model"),
            "posts_scored": result.get("posts", 0), "above_threshold": result.get("above_threshold", 0),
            "accounts_scored": result.get("accounts_scored", 0),
            "model": _model(model, result),
            "top_posts": [_scored_post(content, row, threshold) for row in posts],
            "trust": trust_of(result),
            "accounts": [{**a, "flagged": float(a.get("mean", 0)) >= threshold}
                         for a in (result.get("accounts") or [])[:TOP_ACCOUNTS]],
            "all_accounts": result.get("accounts") or [],
        })
        content.cited.add(analysis.pk)


def _model(model: TextModel | None, result: dict) -> dict:
    if model is None:
        return {"name": result.get("model_name", "(deleted model)"), "id": result.get("model"), "metrics": {},
                "metrics_text": ""}
    metrics = {k: model.metrics.get(k) for k in METRIC_KEYS if model.metrics.get(k) is not None}
    return {"id": model.pk, "name": model.name, "kind": model.get_kind_display(), "base_model": model.base_model,
            "metrics": metrics, "metrics_text": metrics_text(metrics),
            "split": (model.metrics or {}).get("split_type") or (model.split or {}).get("type", ""),
            "job": model.job_id}


def metrics_text(metrics: dict) -> str:
    """``auc 0.912, f1 0.804, n 1200``: floats to three decimals, counts as they are."""
    return ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in metrics.items())


def trust_of(result: dict) -> dict:
    """How far a scoring's figures can be trusted, as the report states it: the share of its posts marked unreliable
    (unlike the model's training posts), the collection's shift AUC, and whether most of it lies outside."""
    ood = result.get("ood") or {}
    if not ood.get("available"):
        return {"available": False, "mostly_outside": False,
                "text": "No out-of-distribution check: the scoring or its model predates it; no post is marked."}
    shift = ood.get("shift_check") or {}
    text = (f"{ood.get('share', 0):.1%} of the scored posts are marked unreliable: unlike the model's training posts "
            f"(beyond the training range or set apart by the collection's shift check)")
    if shift.get("available"):
        text += (f"; a classifier tells this collection from the training posts with AUC {shift['auc']:.2f} "
                 "(0.5: indistinguishable)")
    text += "."
    if ood.get("mostly_outside"):
        text = ("Most of this collection lies outside the model's training range: do not read its ranking as a "
                "finding. " + text)
    return {"available": True, "mostly_outside": bool(ood.get("mostly_outside")), "share": ood.get("share"),
            "shift_auc": shift.get("auc"), "text": text}


def _scored_post(content: Content, row: PostScore, threshold: float) -> dict:
    post, account = row.post, row.account
    return {
        "post_id": row.post_id, "platform_id": post.platform_id, "text": post.text, "time": post.time,
        "account_id": row.account_id, "account": account.handle or account.platform_id,
        "score": row.score, "flagged": row.score >= threshold, "unreliable": row.unreliable,
        "url": content.link(reverse("collection-posts", args=[post.collection_id]) + f"?account={row.account_id}"),
    }


# Communities ------------------------------------------------------------------------------------


def _communities(content: Content) -> None:
    for analysis in analysis_list(investigation=content.investigation).filter(kind__in=NETWORK_KINDS):
        result = analysis.result or {}
        detail = reverse("analysis-detail", args=[analysis.pk])
        communities = []
        for c in sorted(result.get("communities") or [], key=lambda c: -int(c.get("size") or 0))[:TOP_COMMUNITIES]:
            members = [a.get("handle", "") for a in c.get("accounts") or []] or list(c.get("members") or [])
            communities.append({
                "number": c.get("community"), "size": c.get("size") or len(members),
                "members": members[:COMMUNITY_MEMBERS],
                "entities": [e for e in c.get("top_entities") or [] if isinstance(e, dict)][:5],
                "url": content.link(f"{detail}#community-{c.get('community')}"),
            })
        content.communities.append({
            **_analysis_row(content, analysis),
            "communities_total": result.get("communities_total", len(result.get("communities") or [])),
            "nodes": len(result.get("nodes") or []), "edges_total": result.get("edges_total", 0),
            "communities": communities,
            "exports": [{"format": f.upper(), "url": content.link(reverse("analysis-export", args=[analysis.pk, f]))}
                        for f in NETWORK_EXPORTS],
        })
        content.cited.add(analysis.pk)


# DISARM -----------------------------------------------------------------------------------------


def _disarm(content: Content) -> None:
    for group in disarm_evidence(investigation=content.investigation):
        tactic = group["tactic"]
        techniques = []
        for entry in group["techniques"]:
            technique = entry["technique"]
            tags = [{
                "target": tag.described.label, "url": content.link(tag.described.url) if tag.described.url else "",
                "target_type": tag.target_type, "target_ref": tag.target_ref, "seen_on": tag.seen_on,
                "procedure": tag.procedure, "by": _name(tag.created_by),
            } for tag in entry["tags"]]
            row = {"external_id": technique.external_id, "name": technique.name,
                   "description": technique.description, "tactic": tactic.name if tactic else "",
                   "tactic_id": tactic.external_id if tactic else "",
                   "tactic_shortname": tactic.shortname if tactic else "", "tags": tags,
                   "notes": [note.pk for note in entry["notes"]]}
            techniques.append(row)
            content.techniques.append(row)
        content.disarm.append({"tactic": f"{tactic.external_id} {tactic.name}" if tactic else "No tactic",
                               "techniques": techniques})


# Methods ----------------------------------------------------------------------------------------


def _methods(content: Content) -> None:
    analyses = analysis_list(investigation=content.investigation).defer("result")
    if content.cited:  # the analyses the other sections cite; with none chosen, every one
        analyses = analyses.filter(pk__in=content.cited)
    for analysis in analyses.order_by("created_at", "id"):
        job = analysis.job
        row = {**_analysis_row(content, analysis), "params": Job(params=analysis.params).shown_params,
               "job": {"id": job.pk, "started_at": job.started_at, "finished_at": job.finished_at,
                       "duration_s": job.duration_s, "provenance": job.provenance or {}}}
        if analysis.kind == SCORE_KIND:
            result = _result_of(analysis)
            model = TextModel.objects.filter(investigation=content.investigation, pk=result.get("model")).first()
            row["model"] = _model(model, result)
        content.methods.append(row)


def _result_of(analysis: Analysis) -> dict:
    return Analysis.objects.filter(pk=analysis.pk).values_list("result", flat=True).first() or {}


# Audit ------------------------------------------------------------------------------------------


def _audit(content: Content) -> None:
    entries = AuditEntry.objects.filter(investigation=content.investigation)
    content.audit_total = entries.count()
    newest = list(entries.order_by("-at", "-id")[:AUDIT_MAX])
    content.audit = [{"at": e.at, "actor": e.actor_name or "system", "action": e.action, "summary": e.summary}
                     for e in reversed(newest)]


# Exchange formats -------------------------------------------------------------------------------


def _exchange(content: Content, *, min_weight: float) -> None:
    """Flagged accounts (a score analysis's mean at or above its threshold, or a DISARM tag) with evidence posts;
    coordination edges at or above ``min_weight``; every note; the URLs the flagged accounts shared."""
    if Section.FLAGGED in content.sections:
        _flagged_accounts(content)
    if Section.DISARM in content.sections:
        _tagged_accounts(content)
    if Section.COMMUNITIES in content.sections:
        _edges(content, min_weight)
    if Section.STORYLINE in content.sections:
        content.notes = [{"id": n.pk, "body": n.body, "author": _name(n.author), "created_at": n.created_at,
                          "updated_at": n.updated_at, "target_type": n.target_type, "target_ref": n.target_ref}
                         for n in Note.objects.filter(investigation=content.investigation)
                         .select_related("author").order_by("created_at", "id")]
    if content.accounts:
        _urls(content)


def _account_rows(investigation: Investigation, ids) -> dict[int, dict]:
    """The accounts of ``ids`` that belong to the investigation (an id from anywhere else is as absent)."""
    rows = Account.objects.filter(pk__in=list(ids), placeholder=False, collection__investigation=investigation
                                  ).select_related("collection")
    return {a.pk: {"id": a.pk, "handle": a.handle, "platform_id": a.platform_id, "display_name": a.display_name,
                   "collection": a.collection.name, "reasons": [], "posts": [], "max_score": None,
                   "techniques": []} for a in rows}


def _flagged_accounts(content: Content) -> None:
    wanted: dict[int, list[str]] = defaultdict(list)
    for entry in content.flagged:
        for a in entry["all_accounts"]:
            pk = as_id(a.get("account_id", ""))
            if pk and float(a.get("mean", 0)) >= entry["threshold"] and len(wanted) < EXCHANGE_ACCOUNTS:
                wanted[pk].append(
                    f"mean score {a['mean']:.3f} ≥ {entry['threshold']:.2f} over {a.get('posts', 0)} posts "
                    f"({entry['model']['name']}, analysis #{entry['id']})")
    accounts = _account_rows(content.investigation, wanted)
    for pk, reasons in wanted.items():
        if pk in accounts:
            accounts[pk]["reasons"] += reasons
    for entry in content.flagged:
        rows = (PostScore.objects.filter(analysis_id=entry["id"], account_id__in=list(accounts),
                                         score__gte=entry["threshold"])
                .select_related("post").order_by("-score", "id")[:EVIDENCE_POSTS * max(len(accounts), 1)])
        for row in rows:
            account = accounts[row.account_id]
            if len(account["posts"]) < EVIDENCE_POSTS:
                account["posts"].append({"platform_id": row.post.platform_id, "text": row.post.text,
                                         "time": row.post.time, "score": row.score, "analysis": entry["id"]})
            account["max_score"] = max(account["max_score"] or 0.0, row.score)
    content.accounts.update(accounts)


def _tagged_accounts(content: Content) -> None:
    tagged = defaultdict(list)
    for technique in content.techniques:
        for tag in technique["tags"]:
            if tag["target_type"] == TargetType.ACCOUNT and "account" in tag["target_ref"]:
                tagged[int(tag["target_ref"]["account"])].append(technique["external_id"])
    missing = _account_rows(content.investigation, [pk for pk in tagged if pk not in content.accounts])
    content.accounts.update(missing)
    for pk, techniques in tagged.items():
        if pk in content.accounts:
            content.accounts[pk]["techniques"] = sorted(set(techniques))
            content.accounts[pk]["reasons"].append(f"tagged with DISARM {', '.join(sorted(set(techniques)))}")


def _edges(content: Content, min_weight: float) -> None:
    for analysis in analysis_list(investigation=content.investigation).filter(kind__in=ACCOUNT_NETWORKS):
        edges = [(as_id(e.get("source")), as_id(e.get("target")), float(e.get("weight") or 0))
                 for e in (analysis.result or {}).get("edges") or []
                 if float(e.get("weight") or 0) >= min_weight and e.get("significant", True) is not False]
        edges = sorted((e for e in edges if e[0] and e[1]), key=lambda e: -e[2])[:EDGES_MAX]
        ends = {pk for source, target, _ in edges for pk in (source, target)}
        named = accounts_described(collection=analysis.collection, account_ids=ends) if analysis.collection else {}
        for source, target, weight in edges:
            if source in named and target in named:
                content.edges.append({"analysis": analysis.pk, "kind": analysis.kind, "title": analysis.title,
                                      "source": {**named[source], "id": source},
                                      "target": {**named[target], "id": target}, "weight": weight})


def _urls(content: Content) -> None:
    rows = (Interaction.objects.filter(source_account_id__in=list(content.accounts), action=Interaction.Action.URL)
            .values_list("target_entity__value").annotate(n=Count("id")).order_by("-n")[:URLS_MAX])
    content.urls = [{"url": url, "shares": n} for url, n in rows if url]
