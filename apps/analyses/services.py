"""Analyses: start one (as a job), store its outcome whole, score pasted posts for authorship."""
from __future__ import annotations

import shutil

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.analyses.kinds import authorship
from apps.analyses.kinds.base import AnalysisInput, Kind, Outcome, errors_to_sentence, kind_get, kind_label
from apps.analyses.models import Analysis, TextModel
from apps.audit.services import audit_record
from apps.collections.models import Collection
from apps.investigations.models import Investigation
from apps.jobs.models import Job
from apps.jobs.registry import job_kind_register
from apps.jobs.services import JobError, Progress, job_create

JOB_KIND_PREFIX = "analysis:"


def job_kind_name(kind: str) -> str:
    return f"{JOB_KIND_PREFIX}{kind}"


def analysis_start(
    *, investigation: Investigation, user, kind: str, collection: Collection | None, params: dict, enqueue: bool = True
) -> Job:
    """Validate, then create the job that will run the analysis (``enqueue=False``: the caller runs it).

    The caller checks the editor role (through the selectors); a ``ValidationError`` here means no job
    was created.
    """
    spec = kind_get(kind)
    if collection is None:  # every kind so far reads one collection
        raise ValidationError({"collection": "Choose a collection to analyse."})
    if collection.investigation_id != investigation.pk:
        raise ValidationError({"collection": "That collection belongs to another investigation."})
    clean = spec.check(collection, {} if params is None else params)
    job_params = {"kind": kind, "collection_id": collection.pk, "params": clean}
    with transaction.atomic():
        job = job_create(
            investigation=investigation, kind=job_kind_name(kind), params=job_params, user=user, enqueue=enqueue
        )
        # Model training and scoring are analysis kinds too: their entries say so by ``detail.kind``.
        audit_record(investigation=investigation, user=user, action="analysis.start", obj=job,
                     summary=f"Started a {kind_label(kind)} analysis of the collection “{collection.name}” "
                             f"(job #{job.pk}).",
                     detail={"kind": kind, "collection_id": collection.pk})
    return job


def analysis_run(job: Job, progress: Progress) -> dict:
    """The job of every analysis kind: 1. load its inputs; 2. run the kind; 3. write the Analysis row,
    in one transaction, only now that everything is computed (a failed run leaves nothing)."""
    kind = job.params["kind"]
    spec = kind_get(kind)
    collection = Collection.objects.filter(pk=job.params.get("collection_id"), investigation=job.investigation).first()
    if collection is None:
        raise JobError("The collection to analyse was deleted before the analysis ran.")
    analysis_input = AnalysisInput(
        investigation=job.investigation, collection=collection, params=job.params["params"], job=job
    )
    # ``rows``: too many for ``result`` (score: every post's score); ``after_create`` writes them beside the
    # Analysis row, in the same transaction.
    result, summary, rows = Outcome(*spec.run(analysis_input, progress))
    progress(1.0, "Saving the analysis", force=True)
    with transaction.atomic():
        # The collection may have been deleted while the kind ran (its store with it): say so, save nothing.
        if not Collection.objects.select_for_update().filter(pk=collection.pk).exists():
            raise JobError(f"The collection “{collection.name}” was deleted while the analysis ran; nothing was saved.")
        analysis = Analysis.objects.create(
            investigation=job.investigation,
            job=job,
            kind=kind,
            collection=collection,
            params=job.params["params"],
            result=result,
            summary=summary,
            created_by=job.created_by,
        )
        summary = spec.after_create(analysis, rows)
    follow_ups = _follow_ups_start(job, analysis, spec)
    return {"analysis_id": analysis.pk, "kind": kind, **summary, **({"follow_ups": follow_ups} if follow_ups else {})}


def _follow_ups_start(job: Job, analysis: Analysis, spec: Kind) -> list[dict]:
    """Queue what the kind asks to run next (``Kind.follow_ups``). The analysis itself is stored by now: a
    follow-up that its own checks refuse is reported in this job's summary, it does not fail this job."""
    started = []
    for kind, params in spec.follow_ups(analysis):
        try:
            follow = analysis_start(
                investigation=job.investigation, user=job.created_by, kind=kind, collection=analysis.collection,
                params=params,
            )
        except ValidationError as exc:
            started.append({"kind": kind, "error": errors_to_sentence(exc)})
        else:
            started.append({"kind": kind, "job_id": follow.pk})
    return started


def analysis_cleanup(job: Job) -> None:
    """The row is written last, so only a worker that died between writing it and marking the job
    succeeded can leave one behind: the job is then failed and its analysis goes with it."""
    Analysis.objects.filter(job=job).delete()
    try:
        spec = kind_get((job.params or {}).get("kind"))
    except ValidationError:  # a kind no longer registered: nothing of its own to remove
        return
    spec.cleanup(job)


def text_model_delete(model: TextModel, *, user=None) -> None:
    """The row, then its weights once the delete has committed (a rolled-back delete keeps them)."""
    path = model.weights_dir
    with transaction.atomic():
        audit_record(investigation=model.investigation, user=user, action="model.delete", obj=model,
                     summary=f"Deleted the text model “{model.name}”.", detail={"name": model.name})
        model.delete()
        transaction.on_commit(lambda: shutil.rmtree(path, ignore_errors=True))


def authorship_score(*, analysis: Analysis, user, text: str, can_start: bool) -> dict:
    """Score a pasted post against an authorship analysis's account.

    Small accounts: refit and score in this request (``{"scores": [...]}``). Larger ones: start a job
    re-running the analysis with the text pasted in and learning curves off (``{"job": Job}``); that
    needs the editor role (``can_start``), which the caller reads from the selectors.
    """
    if analysis.kind != "authorship":
        raise ValidationError({"text": "Only an authorship analysis scores a pasted post."})
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Paste the text of a post to score."})
    if authorship.score_cheap(analysis):
        return {"scores": authorship.score(analysis, [text])}
    if not can_start:
        raise ValidationError({"text": "This account is large: scoring starts a job, which needs the editor role."})
    params = {**analysis.params, "pasted": [text], "curves": False}
    params.pop("account_id", None)
    job = analysis_start(
        investigation=analysis.investigation,
        user=user,
        kind=analysis.kind,
        collection=analysis.collection,
        params=params,
    )
    return {"job": job}


def job_kinds_register(kinds: tuple[Kind, ...]) -> None:
    for kind in kinds:
        job_kind_register(
            name=job_kind_name(kind.name), run=analysis_run, cleanup=analysis_cleanup, label=f"{kind.label} analysis"
        )
