"""Text model pages (issue #3): a model (metrics, curves, split), training from a collection, scoring a
collection with a model, deleting one, and one post's attention. Access through the selectors: a
non-member gets 404, a viewer 403 on starts and deletes."""
from __future__ import annotations

import plotly
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.analyses.forms import ScoreStartForm, TrainClassifierStartForm
from apps.analyses.selectors import text_model_get
from apps.analyses.services import analysis_start
from apps.collections.models import Post
from apps.collections.selectors import collection_get, collection_list
from apps.investigations.forms import service_errors_to_form
from apps.investigations.models import Role
from apps.investigations.selectors import membership_get

ATTENTION_TOKENS = 40
_LOADED: dict = {}  # one model kept per process for the attention page: (pk, created_at) -> classifier


@login_required
def text_model_detail_view(request, pk: int):
    from ml.text.charts import confusion_figure, loss_figure, precision_recall_figure, roc_figure

    model = text_model_get(user=request.user, model_id=pk)
    m = model.metrics
    figures = {"roc": roc_figure(m), "pr": precision_recall_figure(m), "confusion": confusion_figure(m)} if m.get("roc") else {}
    if model.history.get("train"):
        figures["loss"] = loss_figure(model.history)
    context = {"model": model, "investigation": model.investigation, "figures": figures, "plotly_version": plotly.__version__,
               "can_edit": membership_get(user=request.user, investigation_id=model.investigation_id).allows(Role.EDITOR),
               "changed": model.training_changed(), "has_weights": model.weights_dir.is_dir()}
    return render(request, "analyses/text_model.html", context)


@login_required
@require_POST
def text_model_delete_view(request, pk: int):
    model = text_model_get(user=request.user, model_id=pk, role=Role.EDITOR)
    investigation_id = model.investigation_id
    model.delete()
    return redirect("investigation-detail", pk=investigation_id)


@login_required
def train_classifier_start_view(request, pk: int):
    collection = collection_get(user=request.user, collection_id=pk, role=Role.EDITOR)
    collections = collection_list(investigation=collection.investigation)
    form = TrainClassifierStartForm(request.POST or None, collections=collections,
                                    initial={"positive_collection": collection.pk})
    if request.method == "POST" and form.is_valid():
        params = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        try:
            job = analysis_start(investigation=collection.investigation, user=request.user, kind="train_classifier",
                                 collection=collection, params=params)
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            return redirect("job-detail", pk=job.pk)
    context = {"collection": collection, "investigation": collection.investigation, "form": form}
    return render(request, "analyses/train_classifier_start.html", context, status=400 if form.errors else 200)


@login_required
def text_model_score_start_view(request, pk: int):
    model = text_model_get(user=request.user, model_id=pk, role=Role.EDITOR)
    collections = collection_list(investigation=model.investigation)
    form = ScoreStartForm(request.POST or None, collections=collections)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        collection = collections.filter(pk=data["collection"]).first()
        params = {"model": model.pk, **{k: data[k] for k in ("max_posts", "threshold") if data.get(k) is not None}}
        try:
            job = analysis_start(investigation=model.investigation, user=request.user, kind="score", collection=collection, params=params)
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            return redirect("job-detail", pk=job.pk)
    context = {"model": model, "investigation": model.investigation, "form": form}
    return render(request, "analyses/score_start.html", context, status=400 if form.errors else 200)


@login_required
def text_model_attention_view(request, pk: int):
    """One post's attention from [CLS] (encoder) or the last token (GPT-2): every layer averaged over
    heads, or one layer/head. The post must be in the model's investigation."""
    from ml.text.charts import attention_figure

    model = text_model_get(user=request.user, model_id=pk)
    post_id = request.GET.get("post", "")
    post = Post.objects.filter(pk=int(post_id), collection__investigation=model.investigation_id).first() if post_id.isdigit() else None
    context = {"model": model, "investigation": model.investigation, "post": post, "post_query": post_id,
               "plotly_version": plotly.__version__, "figures": {}}
    if post is not None and model.weights_dir.is_dir():
        attention = _classifier(model).attention(post.text, max_tokens=ATTENTION_TOKENS)
        layers, heads = len(attention["from_source"]), len(attention["from_source"][0])
        layer, head = _index(request.GET.get("layer"), layers), _index(request.GET.get("head"), heads)
        context.update(layers=range(layers), heads=range(heads), layer=layer, head=head, tokens=attention["tokens"],
                       figures={"attention": attention_figure(attention, layer=layer, head=head)})
    status = 404 if post_id and post is None else 200
    return render(request, "analyses/text_model_attention.html", context, status=status)


def _classifier(model):
    from ml.text import load_text_model

    key = (model.pk, model.created_at)
    if key not in _LOADED:
        _LOADED.clear()
        _LOADED[key] = load_text_model(model.weights_dir)
    return _LOADED[key]


def _index(raw, size: int) -> int | None:
    return int(raw) if raw and raw.isdigit() and int(raw) < size else None
