"""Analysis pages: one analysis (drawn by its kind's template), starting authorship, scoring a post;
starting a coordination or co-action network, an edge's evidence (JSON), the network's exports."""
from __future__ import annotations

import plotly
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.analyses.forms import AuthorshipStartForm, ParamsForm, ScoreForm
from apps.analyses.kinds.base import kind_get
from apps.analyses.selectors import account_choices, account_get, accounts_described, analysis_get
from apps.analyses.services import analysis_start, authorship_score
from apps.audit.services import audit_record
from apps.collections.selectors import collection_get
from apps.common.forms import service_errors_to_form
from apps.common.ids import id_param
from apps.investigations.models import Role
from apps.investigations.selectors import membership_get


@login_required
def analysis_detail_view(request, pk: int):
    analysis = analysis_get(user=request.user, analysis_id=pk)
    return _detail(request, analysis, ScoreForm())


def _detail(request, analysis, score_form, *, scores=None, status: int = 200):
    membership = membership_get(user=request.user, investigation_id=analysis.investigation_id)
    kind = kind_get(analysis.kind)
    context = {
        "analysis": analysis,
        "investigation": analysis.investigation,
        "collection": analysis.collection,
        "can_edit": membership.allows(Role.EDITOR),
        "score_form": score_form,
        "scores": scores,
        "plotly_version": plotly.__version__,
        **kind.page_context(analysis),
        **kind.page_query(analysis, request.GET),
    }
    return render(request, f"analyses/{analysis.kind}.html", context, status=status)


@login_required
@require_POST
def analysis_score_view(request, pk: int):
    """Score a pasted post: in the request when cheap (nothing is stored), otherwise as a job."""
    analysis = analysis_get(user=request.user, analysis_id=pk)
    if analysis.kind != "authorship":
        raise Http404("Only an authorship analysis scores a pasted post.")
    form = ScoreForm(request.POST)
    if not form.is_valid():
        return _detail(request, analysis, form, status=400)
    can_start = membership_get(user=request.user, investigation_id=analysis.investigation_id).allows(Role.EDITOR)
    try:
        outcome = authorship_score(
            analysis=analysis, user=request.user, text=form.cleaned_data["text"], can_start=can_start
        )
    except ValidationError as exc:
        service_errors_to_form(form, exc)
        return _detail(request, analysis, form, status=400)
    if "job" in outcome:
        return redirect("job-detail", pk=outcome["job"].pk)
    return _detail(request, analysis, form, scores=outcome["scores"])


@login_required
def authorship_start_view(request, pk: int):
    collection = collection_get(user=request.user, collection_id=pk, role=Role.EDITOR)
    query = request.GET.get("q", "")
    choices = _choices(collection, query, request.GET.get("account"))
    form = AuthorshipStartForm(
        request.POST or None, choices=choices, initial=_initial(choices, request.GET.get("account"))
    )
    if request.method == "POST" and form.is_valid():
        try:
            job = analysis_start(
                investigation=collection.investigation,
                user=request.user,
                kind="authorship",
                collection=collection,
                params={"account": form.cleaned_data["account"]},
            )
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            return redirect("job-detail", pk=job.pk)
    context = {
        "collection": collection,
        "investigation": collection.investigation,
        "form": form,
        "query": query,
        "choices": choices,
    }
    return render(request, "analyses/authorship_start.html", context, status=400 if form.errors else 200)


def _choices(collection, query: str, account_id: str | None) -> list[dict]:
    """Search results (or the top accounts), with the account the page was opened for on top."""
    choices = account_choices(collection=collection, query=query)
    try:
        picked_id = id_param(account_id, name="account")
    except ValidationError:
        picked_id = None
    picked = account_get(collection=collection, account_id=picked_id) if picked_id else None
    if picked is not None and all(c["id"] != picked.pk for c in choices):
        extra = account_choices(collection=collection, query=picked.platform_id)
        choices = [c for c in extra if c["id"] == picked.pk] + choices
    return choices


def _initial(choices: list[dict], account_id: str | None) -> dict:
    for c in choices:
        if account_id and str(c["id"]) == account_id:
            return {"account": c["handle"]}
    return {}


START_TEMPLATES = {
    "coordination": "analyses/network_start.html",
    "coaction": "analyses/network_start.html",
    "propagation": "analyses/spread_start.html",
    "retweet_network": "analyses/spread_start.html",
    "hashtag_network": "analyses/spread_start.html",
    "embedding_map": "analyses/embedding_map_start.html",
    "behaviour": "analyses/behaviour_start.html",
    "hybrid": "analyses/hybrid_start.html",  # its view: hybrid_views.hybrid_start_view
}
EXPORT_TYPES = {"gexf": "application/gexf+xml", "graphml": "application/graphml+xml", "csv": "text/csv"}


@login_required
def kind_start_view(request, pk: int, kind: str):
    """Start a network or spread analysis of the collection (editors): the form generated from the kind's parameters."""
    collection = collection_get(user=request.user, collection_id=pk, role=Role.EDITOR)
    form = ParamsForm(request.POST or None, kind=kind_get(kind))
    return start_page(request, collection, kind, form, START_TEMPLATES[kind])


def start_page(request, collection, kind: str, form: ParamsForm, template: str):
    """The start page of an analysis kind on a collection the caller has checked for an editor: validate
    the form, start the job and go to its page, or show the form with the kind's sentences."""
    if request.method == "POST" and form.is_valid():
        try:
            job = analysis_start(
                investigation=collection.investigation,
                user=request.user,
                kind=kind,
                collection=collection,
                params=form.params(),
            )
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            return redirect("job-detail", pk=job.pk)
    context = {
        "collection": collection,
        "investigation": collection.investigation,
        "form": form,
        "kind": kind,
        "label": kind_get(kind).label,
    }
    return render(request, template, context, status=400 if form.errors else 200)


@login_required
def analysis_evidence_view(request, pk: int):
    """JSON: the posts and entities behind the edge source→target (Account ids), recomputed from the
    two accounts' rows (bounded; see the kind's ``evidence``)."""
    analysis = analysis_get(user=request.user, analysis_id=pk)
    kind = kind_get(analysis.kind)
    if not kind.has_evidence:
        raise Http404("This analysis has no evidence to show.")
    try:
        source, target = (
            id_param(request.GET.get("source"), name="source"),
            id_param(request.GET.get("target"), name="target"),
        )
        if source is None or target is None:
            raise ValidationError({"source": ["Give ?source= and ?target=, two account ids."]})
    except ValidationError as exc:
        return JsonResponse({"error": exc.message_dict}, status=400)
    names = {a["id"]: a for a in (_account_brief(analysis, source), _account_brief(analysis, target))}
    found = kind.evidence(analysis, source, target)
    return JsonResponse({"source": names[source], "target": names[target], **found})


def _account_brief(analysis, pk: int) -> dict:
    described = accounts_described(collection=analysis.collection, account_ids=[pk]).get(pk, {})
    return {"id": pk, "handle": described.get("handle", str(pk))}


@login_required
def analysis_export_view(request, pk: int, fmt: str):
    """The stored network as GEXF, GraphML (networkx writes both) or a CSV edge list."""
    analysis = analysis_get(user=request.user, analysis_id=pk)
    kind = kind_get(analysis.kind)
    if fmt not in kind.exports or fmt not in EXPORT_TYPES:
        raise Http404("No such export.")
    audit_record(investigation=analysis.investigation, user=request.user, action="export", obj=analysis,
                 summary=f"Exported the {kind.label} analysis #{analysis.pk} as {fmt.upper()}.", detail={"format": fmt})
    response = HttpResponse(kind.export(analysis, fmt), content_type=EXPORT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{analysis.kind}-{analysis.pk}.{fmt}"'
    return response


@login_required
def analysis_timeline_view(request, pk: int):
    """JSON: posts per hour or day with one hashtag (?hashtag=) or domain (?domain=), split by the
    analysis's label, bursts flagged (bounded: see ``spread.entity_timeline``)."""
    analysis = analysis_get(user=request.user, analysis_id=pk)
    kind = kind_get(analysis.kind)
    if not kind.has_timeline:
        raise Http404("This analysis has no timelines.")
    entity = "domain" if request.GET.get("domain") else "hashtag"
    value = (request.GET.get(entity) or "").strip().lower().removeprefix("#")
    freq = request.GET.get("freq", "hour")
    if not value or freq not in ("hour", "day"):
        return JsonResponse({"error": "Give ?hashtag= or ?domain=, and freq hour or day."}, status=400)
    return JsonResponse(kind.timeline(analysis, kind=entity, value=value, freq=freq))
