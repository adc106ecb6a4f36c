"""Pages: an investigation's queues, a new queue (editors), and a queue one item at a time (static/js/triage.js
drives the keys through the API; the first item comes with the page)."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from apps.common.forms import service_errors_to_form
from apps.investigations.models import Role
from apps.investigations.selectors import investigation_get, membership_get
from apps.triage import services
from apps.triage.apis import TriageNextOutput, next_payload
from apps.triage.forms import QueueForm
from apps.triage.selectors import agreement, done_counts, queue_get, queue_list, score_analyses


@login_required
@require_GET
def triage_list_view(request, pk: int):
    membership = membership_get(user=request.user, investigation_id=pk)
    queues = list(queue_list(investigation=membership.investigation))
    done = done_counts(queues=queues, user=request.user)
    for queue in queues:
        queue.done = done.get(queue.pk, 0)
    context = {"investigation": membership.investigation, "queues": queues,
               "can_edit": membership.allows(Role.EDITOR)}
    return render(request, "triage/list.html", context)


@login_required
def triage_create_view(request, pk: int):
    investigation = investigation_get(user=request.user, investigation_id=pk, role=Role.EDITOR)
    analyses = score_analyses(investigation=investigation)
    form = QueueForm(request.POST if request.method == "POST" else None, analyses=analyses,
                     initial={"analysis": request.GET.get("analysis")} if request.GET.get("analysis") else None)
    if request.method == "POST" and form.is_valid():
        try:
            queue = services.queue_create(investigation=investigation, user=request.user,
                                          **{**form.cleaned_data, "seed": form.cleaned_data["seed"] or 0})
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            return redirect("triage-queue", pk=queue.pk)
    context = {"investigation": investigation, "form": form, "has_analyses": analyses.exists()}
    return render(request, "triage/create.html", context, status=400 if form.errors else 200)


@login_required
@require_GET
def triage_queue_view(request, pk: int):
    queue = queue_get(user=request.user, queue_id=pk)
    membership = membership_get(user=request.user, investigation_id=queue.investigation_id)
    context = {
        "queue": queue,
        "investigation": queue.investigation,
        "collection": queue.collection,
        "can_edit": membership.allows(Role.EDITOR),
        "keys": list(enumerate(queue.label_values, start=1)),
        "first": TriageNextOutput(next_payload(queue=queue, user=request.user)).data,
        "pairs": agreement(queue=queue),
    }
    return render(request, "triage/queue.html", context)
