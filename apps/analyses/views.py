"""Analysis pages: one analysis (drawn by its kind's template), starting authorship, scoring a post."""
from __future__ import annotations

import plotly
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.analyses.forms import AuthorshipStartForm, ScoreForm
from apps.analyses.kinds import kind_get
from apps.analyses.selectors import account_choices, account_get, analysis_get
from apps.analyses.services import analysis_start, authorship_score
from apps.collections.selectors import collection_get
from apps.investigations.forms import service_errors_to_form
from apps.investigations.models import Role
from apps.investigations.selectors import membership_get


@login_required
def analysis_detail_view(request, pk: int):
    analysis = analysis_get(user=request.user, analysis_id=pk)
    return _detail(request, analysis, ScoreForm())


def _detail(request, analysis, score_form, *, scores=None, status: int = 200):
    membership = membership_get(user=request.user, investigation_id=analysis.investigation_id)
    context = {
        "analysis": analysis,
        "investigation": analysis.investigation,
        "collection": analysis.collection,
        "can_edit": membership.allows(Role.EDITOR),
        "score_form": score_form,
        "scores": scores,
        "plotly_version": plotly.__version__,
        **kind_get(analysis.kind).page_context(analysis),
    }
    return render(request, f"analyses/{analysis.kind}.html", context, status=status)


@login_required
@require_POST
def analysis_score_view(request, pk: int):
    """Score a pasted post: in the request when cheap (nothing is stored), otherwise as a job."""
    analysis = analysis_get(user=request.user, analysis_id=pk)
    form = ScoreForm(request.POST)
    if not form.is_valid():
        return _detail(request, analysis, form, status=400)
    can_start = membership_get(user=request.user, investigation_id=analysis.investigation_id).allows(Role.EDITOR)
    try:
        outcome = authorship_score(analysis=analysis, user=request.user, text=form.cleaned_data["text"], can_start=can_start)
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
    form = AuthorshipStartForm(request.POST or None, choices=choices, initial=_initial(choices, request.GET.get("account")))
    if request.method == "POST" and form.is_valid():
        try:
            job = analysis_start(investigation=collection.investigation, user=request.user, kind="authorship",
                                 collection=collection, params={"account": form.cleaned_data["account"]})
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            return redirect("job-detail", pk=job.pk)
    context = {"collection": collection, "investigation": collection.investigation, "form": form, "query": query, "choices": choices}
    return render(request, "analyses/authorship_start.html", context, status=400 if form.errors else 200)


def _choices(collection, query: str, account_id: str | None) -> list[dict]:
    """Search results (or the top accounts), with the account the page was opened for on top."""
    choices = account_choices(collection=collection, query=query)
    picked = account_get(collection=collection, account_id=int(account_id)) if account_id and account_id.isdigit() else None
    if picked is not None and all(c["id"] != picked.pk for c in choices):
        extra = account_choices(collection=collection, query=picked.platform_id)
        choices = [c for c in extra if c["id"] == picked.pk] + choices
    return choices


def _initial(choices: list[dict], account_id: str | None) -> dict:
    for c in choices:
        if account_id and str(c["id"]) == account_id:
            return {"account": c["handle"]}
    return {}
