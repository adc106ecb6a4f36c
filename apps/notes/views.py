"""Pages: the notes panel (list, create, tag), a note's edit page, deletes, and the DISARM panel."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.common.forms import service_errors_to_form
from apps.investigations.models import Role
from apps.investigations.selectors import investigation_get, membership_get
from apps.notes import services
from apps.notes.forms import NoteEditForm, NoteForm, TagForm
from apps.notes.models import NOTE_TARGETS, TargetType
from apps.notes.selectors import disarm_evidence, note_get, note_list, tag_get, tag_list, with_targets


@login_required
def note_list_view(request, pk: int):
    membership = membership_get(user=request.user, investigation_id=pk)
    form = NoteForm(request.POST if request.method == "POST" else None, initial=request.GET.dict())
    if request.method == "POST":
        investigation = investigation_get(user=request.user, investigation_id=pk, role=Role.EDITOR)
        if form.is_valid():
            try:
                note = services.note_create(investigation=investigation, user=request.user,
                                            body=form.cleaned_data["body"],
                                            target_type=form.cleaned_data["target_type"], target=form.target_ref())
            except ValidationError as exc:
                service_errors_to_form(form, exc)
            else:
                return redirect(f"{request.path}#note-{note.pk}")
    return _panel(request, membership, note_form=form)


def _panel(request, membership, *, note_form=None, tag_form=None):
    investigation = membership.investigation
    target_type = request.GET.get("target_type") if request.GET.get("target_type") in NOTE_TARGETS else None
    notes = note_list(investigation=investigation, target_type=target_type).prefetch_related("tags__technique")
    notes = with_targets(investigation=investigation, items=notes)
    tags = with_targets(investigation=investigation, items=tag_list(investigation=investigation))
    bad = bool((note_form and note_form.errors) or (tag_form and tag_form.errors))
    context = {
        "investigation": investigation,
        "can_edit": membership.allows(Role.EDITOR),
        "notes": notes,
        "tags": tags,
        "target_type": target_type,
        "target_types": [(t, TargetType(t).label) for t in NOTE_TARGETS],
        "note_form": note_form or NoteForm(),
        "tag_form": tag_form or TagForm(),
    }
    return render(request, "notes/list.html", context, status=400 if bad else 200)


@login_required
def note_edit_view(request, pk: int):
    note = note_get(user=request.user, note_id=pk, role=Role.EDITOR)
    form = NoteEditForm(request.POST if request.method == "POST" else None, initial={"body": note.body})
    if request.method == "POST" and form.is_valid():
        try:
            services.note_update(note=note, user=request.user, body=form.cleaned_data["body"])
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            return redirect(f"{_list_url(note.investigation_id)}#note-{note.pk}")
    context = {"investigation": note.investigation, "note": note, "form": form}
    return render(request, "notes/edit.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def note_delete_view(request, pk: int):
    note = note_get(user=request.user, note_id=pk, role=Role.EDITOR)
    services.note_delete(note=note, user=request.user)
    messages.success(request, f"Note #{pk} was deleted.")
    return redirect(_list_url(note.investigation_id))


@login_required
@require_POST
def tag_add_view(request, pk: int):
    investigation = investigation_get(user=request.user, investigation_id=pk, role=Role.EDITOR)
    form = TagForm(request.POST)
    if form.is_valid():
        try:
            fields = {k: form.cleaned_data[k] for k in ("technique", "target_type", "seen_on", "procedure")}
            tag = services.tag_add(investigation=investigation, user=request.user, target=form.target_ref(), **fields)
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, f"Tagged {tag.technique.external_id}.")
            return redirect(_list_url(pk) + "#tags")
    return _panel(request, membership_get(user=request.user, investigation_id=pk), tag_form=form)


@login_required
@require_POST
def tag_remove_view(request, pk: int):
    tag = tag_get(user=request.user, tag_id=pk, role=Role.EDITOR)
    services.tag_remove(tag=tag, user=request.user)
    messages.success(request, f"Removed the {tag.technique.external_id} tag.")
    return redirect(_list_url(tag.investigation_id) + "#tags")


@login_required
@require_GET
def disarm_view(request, pk: int):
    investigation = investigation_get(user=request.user, investigation_id=pk)
    context = {"investigation": investigation, "groups": disarm_evidence(investigation=investigation)}
    return render(request, "notes/disarm.html", context)


def _list_url(investigation_id: int) -> str:
    return reverse("note-list", args=[investigation_id])
