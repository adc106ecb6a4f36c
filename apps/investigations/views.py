"""Investigation pages: the list (and create), the detail with its members panel, delete."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.collections.selectors import collection_list
from apps.common.forms import service_errors_to_form
from apps.investigations.forms import InvestigationForm, MemberForm, MemberRemoveForm
from apps.investigations.models import Role
from apps.investigations.selectors import investigation_get, investigation_list, members_list, membership_get
from apps.investigations.services import investigation_create, investigation_delete, member_remove, member_set
from apps.jobs.selectors import job_list

RECENT_JOBS = 10


@login_required
def investigation_list_view(request):
    form = InvestigationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            investigation = investigation_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            return redirect("investigation-detail", pk=investigation.pk)
    investigations = investigation_list(user=request.user).select_related("created_by")
    status = 400 if form.errors else 200
    return render(request, "investigations/list.html", {"investigations": investigations, "form": form}, status=status)


@login_required
def investigation_detail_view(request, pk: int):
    membership = membership_get(user=request.user, investigation_id=pk)
    return _detail(request, membership)


def _detail(request, membership, *, member_form: MemberForm | None = None, remove_form=None, status: int = 200):
    investigation = membership.investigation
    context = {
        "investigation": investigation,
        "membership": membership,
        "can_edit": membership.allows(Role.EDITOR),
        "is_owner": membership.allows(Role.OWNER),
        "collections": collection_list(investigation=investigation),
        "jobs": job_list(investigation=investigation)[:RECENT_JOBS],
        "members": members_list(investigation=investigation),
        "member_form": member_form or MemberForm(),
        "remove_form": remove_form,
        "roles": Role.choices,
    }
    return render(request, "investigations/detail.html", context, status=status)


@login_required
@require_POST
def member_set_view(request, pk: int):
    investigation = investigation_get(user=request.user, investigation_id=pk, role=Role.OWNER)
    form = MemberForm(request.POST)
    if form.is_valid():
        try:
            membership = member_set(investigation=investigation, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, f"{membership.user.username} is now {membership.role} of this investigation.")
            return redirect("investigation-detail", pk=pk)
    return _detail(request, membership_get(user=request.user, investigation_id=pk), member_form=form, status=400)


@login_required
@require_POST
def member_remove_view(request, pk: int):
    investigation = investigation_get(user=request.user, investigation_id=pk, role=Role.OWNER)
    form = MemberRemoveForm(request.POST)
    if form.is_valid():
        try:
            member_remove(investigation=investigation, username=form.cleaned_data["username"], by=request.user)
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, f"{form.cleaned_data['username']} was removed from this investigation.")
            if form.cleaned_data["username"] == request.user.username:
                return redirect("investigation-list")
            return redirect("investigation-detail", pk=pk)
    return _detail(request, membership_get(user=request.user, investigation_id=pk), remove_form=form, status=400)


@login_required
def investigation_delete_view(request, pk: int):
    investigation = investigation_get(user=request.user, investigation_id=pk, role=Role.OWNER)
    if request.method == "POST":
        name = investigation.name
        investigation_delete(investigation=investigation)
        messages.success(request, f"Investigation “{name}” was deleted with all its collections and jobs.")
        return redirect("investigation-list")
    counts = {"collections": investigation.collections.count(), "jobs": investigation.jobs.count()}
    return render(request, "investigations/delete.html", {"investigation": investigation, "counts": counts})
