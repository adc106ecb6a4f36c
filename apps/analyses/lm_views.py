"""Language-model pages: training an LM of a collection, starting the cross-perplexity
matrix and attribution, and an LM's own page with sample generations. Access through the selectors: a
non-member gets 404, a viewer 403 on starts.

Sample generations write nothing (no row, no file), so a viewer may ask for them too; they are POST only
because they cost CPU, and every one is marked SYNTHETIC on the page."""
from __future__ import annotations

import plotly
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from apps.analyses.forms import LMSampleForm, ParamsForm
from apps.analyses.inference import language_model
from apps.analyses.kinds.base import kind_get
from apps.analyses.models import TextModel
from apps.analyses.selectors import text_model_get, text_model_list
from apps.analyses.services import analysis_start
from apps.analyses.views import start_page
from apps.collections.selectors import collection_get, collection_list
from apps.common.forms import service_errors_to_form
from apps.common.ids import as_id
from apps.investigations.models import Role
from apps.investigations.selectors import investigation_get, membership_get


@login_required
def train_lm_start_view(request, pk: int):
    collection = collection_get(user=request.user, collection_id=pk, role=Role.EDITOR)
    form = ParamsForm(request.POST or None, kind=kind_get("train_lm"))
    return start_page(request, collection, "train_lm", form, "analyses/lm_train_start.html")


@login_required
def perplexity_matrix_start_view(request, pk: int):
    """From the investigation page (``?collection=`` ticks a collection): the LMs are the rows, the
    collections the columns; the job runs on the first chosen collection."""
    investigation = investigation_get(user=request.user, investigation_id=pk, role=Role.EDITOR)
    collections = collection_list(investigation=investigation)
    models = text_model_list(investigation=investigation).filter(kind=TextModel.Kind.LM)
    ticked = request.GET.get("collection", "")
    initial = {"models": [str(m.pk) for m in models], "collections": [ticked] if as_id(ticked) else []}
    options = [(str(c.pk), c.name) for c in collections]
    form = ParamsForm(
        request.POST or None,
        kind=kind_get("perplexity_matrix"),
        initial=initial,
        choices={"models": [(str(m.pk), m.name) for m in models], "collections": options, "target": options},
    )
    if request.method == "POST" and form.is_valid():
        params = form.params()
        chosen = params.get("collections") or []
        anchor = collections.filter(pk=as_id(chosen[0])).first() if chosen and as_id(chosen[0]) else None
        try:
            job = analysis_start(
                investigation=investigation,
                user=request.user,
                kind="perplexity_matrix",
                collection=anchor,
                params=params,
            )
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            return redirect("job-detail", pk=job.pk)
    context = {"investigation": investigation, "form": form, "has_models": models.exists()}
    return render(request, "analyses/perplexity_matrix_start.html", context, status=400 if form.errors else 200)


@login_required
def lm_detail_view(request, pk: int):
    """An LM: its training, held-out perplexity and loss; POST: sample generations (viewers too)."""
    from ml.text.charts import loss_figure

    model = text_model_get(user=request.user, model_id=pk)
    if model.kind != TextModel.Kind.LM:
        return redirect("text-model-detail", pk=model.pk)
    has_weights = model.weights_dir.is_dir()
    form = LMSampleForm(request.POST or None)
    samples = None
    if request.method == "POST" and form.is_valid() and has_weights:
        data = form.cleaned_data
        samples = language_model(model).sample(
            data["prompt"], n=data["n"], max_new_tokens=data["max_new_tokens"], temperature=data["temperature"]
        )
    figures = {"loss": loss_figure(model.history)} if model.history.get("train") else {}
    context = {
        "model": model,
        "investigation": model.investigation,
        "form": form,
        "samples": samples,
        "figures": figures,
        "plotly_version": plotly.__version__,
        "has_weights": has_weights,
        "changed": model.training_changed(),
        "can_edit": membership_get(user=request.user, investigation_id=model.investigation_id).allows(Role.EDITOR),
    }
    status = 400 if request.method == "POST" and (form.errors or not has_weights) else 200
    return render(request, "analyses/lm_detail.html", context, status=status)
