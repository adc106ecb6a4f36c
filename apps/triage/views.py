"""Pages: an investigation's queues, a new queue (editors), a queue one item at a time (static/js/triage.js
drives the keys, the retrain button and its progress through the API; the first item and the rounds come with the
page), and the queue's disagreements, each resolved with one of the labels (editors)."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from apps.collections.models import Post
from apps.common.forms import service_errors_to_form
from apps.investigations.models import Role
from apps.investigations.selectors import investigation_get, membership_get
from apps.triage import services
from apps.triage.apis import TriageNextOutput, next_payload
from apps.triage.forms import QueueForm
from apps.triage.models import TriageQueue
from apps.triage.selectors import (
    SOURCE_KINDS,
    agreement,
    disagreements,
    done_counts,
    fleiss,
    queue_get,
    queue_list,
    retrain_jobs,
    round_list,
    score_analyses,
    training_labels,
)


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
    analyses = score_analyses(investigation=investigation, kinds=SOURCE_KINDS[TriageQueue.Unit.ACCOUNT])
    form = QueueForm(request.POST if request.method == "POST" else None, analyses=analyses,
                     initial={"analysis": request.GET.get("analysis")} if request.GET.get("analysis") else None)
    if request.method == "POST" and form.is_valid():
        try:
            queue = services.queue_create(investigation=investigation, user=request.user,
                                          **{**form.cleaned_data, "seed": form.cleaned_data["seed"] or 0,
                                             "unit": form.cleaned_data["unit"] or TriageQueue.Unit.POST,
                                             "labels_per_item": form.cleaned_data["labels_per_item"] or 0})
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
        "accounts": queue.unit == TriageQueue.Unit.ACCOUNT,
        "retrain_absent_why": services.RETRAIN_POSTS_ONLY,
        "keys": list(enumerate(queue.label_values, start=1)),
        "first": TriageNextOutput(next_payload(queue=queue, user=request.user, ahead=True)).data,
        "pairs": _with_confusion_rows(agreement(queue=queue)),
        "fleiss": fleiss(queue=queue),
        "rounds": list(round_list(queue=queue)),
        "retrain_job": _job_state(queue),
        "unresolved": training_labels(queue=queue)[1],
    }
    return render(request, "triage/queue.html", context)


def _with_confusion_rows(pairs: list[dict]) -> list[dict]:
    for pair in pairs:
        pair["confusion_rows"] = list(zip(pair["classes"], pair["confusion"]))
    return pairs


def _job_state(queue) -> dict | None:
    job = retrain_jobs(queue=queue).first()
    return job.as_state() if job else None


@login_required
@require_http_methods(["GET", "POST"])
def triage_disagreements_view(request, pk: int):
    """The posts the analysts labelled differently, unresolved first; an editor resolves one with a label (a POST of
    ``post`` and ``value``), which is the label training uses."""
    queue = queue_get(user=request.user, queue_id=pk, role=Role.EDITOR if request.method == "POST" else Role.VIEWER)
    membership = membership_get(user=request.user, investigation_id=queue.investigation_id)
    error = None
    if request.method == "POST":
        try:
            services.resolution_record(queue=queue, user=request.user, post_id=_int(request.POST.get("post")),
                                       value=request.POST.get("value", ""))
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            return redirect(reverse("triage-disagreements", args=[queue.pk]))
    rows = disagreements(queue=queue)
    posts = {p.pk: p for p in Post.objects.filter(pk__in=[r["post_id"] for r in rows], collection=queue.collection)}
    for row in rows:
        row["post"] = posts.get(row["post_id"])
    context = {"queue": queue, "investigation": queue.investigation, "rows": rows, "error": error,
               "unresolved": sum(r["resolution"] is None for r in rows), "pairs": agreement(queue=queue),
               "accounts": queue.unit == TriageQueue.Unit.ACCOUNT,
               "can_edit": membership.allows(Role.EDITOR)}
    return render(request, "triage/disagreements.html", context, status=400 if error else 200)


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
