"""Text model pages: a model (metrics, curves, split), training from a collection, scoring a
collection with a model, deleting one, a post seen by a model (its score, attention heatmap and bertviz
views), and a score analysis's posts as CSV. Access through the selectors: a non-member gets 404, a
viewer 403 on starts and deletes."""
from __future__ import annotations

import plotly
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.safestring import mark_safe
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET, require_POST

from apps.analyses.forms import ParamsForm, ScoreStartForm
from apps.analyses.inference import text_classifier
from apps.analyses.kinds.base import kind_get
from apps.analyses.kinds.train_classifier import (
    calibration_summary,
    confound_summary,
    external_summary,
    ood_summary,
    split_type,
)
from apps.analyses.selectors import (
    analysis_get,
    post_of_investigation,
    post_score_list,
    post_stored_scores,
    text_model_get,
    text_model_scorings,
)
from apps.analyses.services import analysis_start, text_model_delete
from apps.analyses.views import start_page
from apps.audit.services import audit_record
from apps.collections.selectors import collection_get, collection_list
from apps.common.csvfile import csv_streaming_response
from apps.common.forms import service_errors_to_form
from apps.investigations.models import Role
from apps.investigations.selectors import membership_get

ATTENTION_TOKENS = 40


@login_required
def text_model_detail_view(request, pk: int):
    from ml.text.charts import confusion_figure, loss_figure, precision_recall_figure, reliability_figure, roc_figure

    model = text_model_get(user=request.user, model_id=pk)
    if model.kind == "lm":  # a language model has its own page (apps/analyses/lm_views.py)
        return redirect("lm-detail", pk=model.pk)
    m = model.metrics
    figures = (
        {"roc": roc_figure(m), "pr": precision_recall_figure(m), "confusion": confusion_figure(m)}
        if m.get("roc")
        else {}
    )
    if (m.get("calibration") or {}).get("fitted"):
        figures["reliability"] = reliability_figure(m["calibration"])
    if model.history.get("train"):
        figures["loss"] = loss_figure(model.history)
    context = {
        "model": model,
        "investigation": model.investigation,
        "split_type": split_type(model.split),
        "calibration": calibration_summary(m),
        "ood": ood_summary(m),
        "confounds": confound_summary(m),
        "external": external_summary(m),
        "figures": figures,
        "plotly_version": plotly.__version__,
        "can_edit": membership_get(user=request.user, investigation_id=model.investigation_id).allows(Role.EDITOR),
        "changed": model.training_changed(),
        "has_weights": model.weights_dir.is_dir(),
        "scorings": text_model_scorings(model=model)[:20],
    }
    return render(request, "analyses/text_model.html", context)


@login_required
@require_POST
def text_model_delete_view(request, pk: int):
    model = text_model_get(user=request.user, model_id=pk, role=Role.EDITOR)
    investigation_id = model.investigation_id
    text_model_delete(model, user=request.user)
    return redirect("investigation-detail", pk=investigation_id)


@login_required
def train_classifier_start_view(request, pk: int):
    collection = collection_get(user=request.user, collection_id=pk, role=Role.EDITOR)
    collections = collection_list(investigation=collection.investigation)
    options = [(c.pk, c.name) for c in collections]
    external = ("validate_collection", "validate_positive_collection", "validate_negative_collection")
    form = ParamsForm(
        request.POST or None,
        kind=kind_get("train_classifier"),
        initial={"positive_collection": collection.pk},
        choices={"positive_collection": options, "negative_collection": options, **dict.fromkeys(external, options)},
        # "Validate on another pair" needs a collection the training does not read.
        exclude=external if len(options) < 2 else (),
    )
    return start_page(request, collection, "train_classifier", form, "analyses/train_classifier_start.html")


@login_required
def text_model_score_start_view(request, pk: int):
    model = text_model_get(user=request.user, model_id=pk, role=Role.EDITOR)
    collections = collection_list(investigation=model.investigation)
    form = ScoreStartForm(
        request.POST or None, kind=kind_get("score"), collections=collections, int8_report=model.metrics.get("int8")
    )
    if request.method == "POST" and form.is_valid():
        collection = collections.filter(pk=form.cleaned_data["collection"]).first()
        params = {**form.params(), "model": model.pk}
        try:
            job = analysis_start(
                investigation=model.investigation, user=request.user, kind="score", collection=collection, params=params
            )
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            return redirect("job-detail", pk=job.pk)
    context = {
        "model": model,
        "investigation": model.investigation,
        "form": form,
        "calibration": calibration_summary(model.metrics),
    }
    return render(request, "analyses/score_start.html", context, status=400 if form.errors else 200)


@login_required
def text_model_attention_view(request, pk: int):
    """Pick a post by id; a post of the model's investigation opens its post page."""
    model = text_model_get(user=request.user, model_id=pk)
    post_id = request.GET.get("post", "")
    post = post_of_investigation(investigation_id=model.investigation_id, post_id=post_id) if post_id else None
    if post is not None:
        return redirect("text-model-post", pk=model.pk, post_pk=post.pk)
    context = {"model": model, "investigation": model.investigation, "post_query": post_id}
    return render(request, "analyses/text_model_attention.html", context, status=404 if post_id else 200)


@login_required
def text_model_post_view(request, pk: int, post_pk: int):
    """One post seen by a model: its score now and in the model's stored scorings, the attention from
    [CLS] (encoder) or the last token (GPT-2) as a token heatmap and per layer, and bertviz's head and
    model views in sandboxed frames (their require.js must not meet Plotly)."""
    from ml.text.calibration import sigmoid
    from ml.text.charts import attention_figure

    model, post = _model_and_post(request, pk, post_pk)
    stored = post_stored_scores(model=model, post=post)  # each with the mark its scoring stored
    context = {
        "model": model,
        "investigation": model.investigation,
        "collection": post.collection,
        "post": post,
        "stored": stored,
        "plotly_version": plotly.__version__,
        "figures": {},
        "has_weights": model.weights_dir.is_dir(),
        "token_cap": ATTENTION_TOKENS,
    }
    if context["has_weights"] and post.text.strip():
        classifier = text_classifier(model)
        attention = classifier.attention(post.text, max_tokens=ATTENTION_TOKENS)
        logits, distances = classifier.logits_and_distances([post.text])
        ood = classifier.ood_
        context.update(
            score=float(sigmoid(logits / classifier.temperature_)[0]),
            ood_distance=None if distances is None else float(distances[0]),
            ood_limit=None if ood is None else ood.range_["p99"],
            unreliable=distances is not None and bool(ood.unreliable(distances)[0]),
            threshold=classifier.decision_threshold,
            tokens=_token_cells(attention),
            layers=range(attention["layers"]),
            heads=range(attention["heads"]),
            attention={"tokens": attention["tokens"], "from_source": attention["from_source"]},
            source_token=attention["source_token"],
            figures={"attention": attention_figure(attention)},
        )
    return render(request, "analyses/post_attention.html", context)


@login_required
@xframe_options_sameorigin
@gzip_page
def text_model_post_bertviz_view(request, pk: int, post_pk: int, view: str):
    """bertviz's head or model view of the post as a whole HTML document, for a sandboxed iframe: d3,
    jQuery and require.js come from /static/ (installed packages), and its CSP lets nothing else load."""
    from ml.text.attention import head_view_html, model_view_html

    model, post = _model_and_post(request, pk, post_pk)
    if view not in ("head", "model") or not model.weights_dir.is_dir() or not post.text.strip():
        raise Http404("No such view.")
    attention = text_classifier(model).attention(post.text, max_tokens=ATTENTION_TOKENS)
    assets = {
        "require": static("vendor/requirejs/require.js"),
        "d3": static("vendor/d3/d3.v5.min.js"),
        "jquery": static("admin/js/vendor/jquery/jquery.min.js"),
    }
    body = (head_view_html if view == "head" else model_view_html)(attention, assets, max_tokens=ATTENTION_TOKENS)
    html = render_to_string("analyses/post_bertviz.html", {"view": view, "body": mark_safe(body), "post": post})
    response = HttpResponse(html)
    origin = f"{request.scheme}://{request.get_host()}"
    response["Content-Security-Policy"] = (
        f"default-src 'none'; script-src {origin} 'self' 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"
    )
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
@require_GET
def score_posts_csv_view(request, pk: int):
    """Every scored post of a score analysis, highest score first (streamed; spreadsheet-safe cells), with its
    distance to the model's training posts and whether that is beyond the training range (blank where the model
    had no out-of-distribution check)."""
    analysis = analysis_get(user=request.user, analysis_id=pk)
    if analysis.kind != "score":
        raise Http404("This analysis has no post scores.")
    audit_record(investigation=analysis.investigation, user=request.user, action="export", obj=analysis,
                 summary=f"Exported the post scores of analysis #{analysis.pk} as CSV.", detail={"format": "csv"})
    rows = post_score_list(analysis=analysis).values_list(
        "post_id", "post__platform_id", "account_id", "account__handle", "score", "ood", "shift", "unreliable",
        "post__text"
    )

    def number(value) -> str:
        return "" if value is None else repr(value)

    def lines():
        yield ["post_id", "post_platform_id", "account_id", "account", "score", "ood_distance", "shift_probability",
               "unreliable", "text"]
        for post, platform_id, account, handle, score, ood, shift, unreliable, text in rows.iterator(
            chunk_size=5_000
        ):
            yield [post, platform_id, account, handle, repr(score), number(ood), number(shift),
                   "" if unreliable is None else str(unreliable).lower(), text]

    return csv_streaming_response(lines(), filename=f"post-scores-{analysis.pk}.csv")


def _model_and_post(request, pk: int, post_pk: int):
    model = text_model_get(user=request.user, model_id=pk)
    post = post_of_investigation(investigation_id=model.investigation_id, post_id=post_pk)
    if post is None or model.kind == "lm":  # a language model neither scores posts nor has a [CLS] token
        raise Http404("No such post in this investigation.")
    return model, post


def _token_cells(attention: dict) -> list[dict]:
    """Each token with its attention from the source token, averaged over layers and heads, and that
    weight relative to the largest (the colour's strength)."""
    weights = attention["mean_from_source"]
    top = max(weights) or 1.0
    return [{"token": t, "weight": w, "alpha": round(w / top, 3)} for t, w in zip(attention["tokens"], weights)]
