"""Collection pages: upload (with a mapping preview), the overview, posts, rejected rows; plotly.js."""
from __future__ import annotations

import pathlib
import re
from functools import lru_cache

import plotly
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.collections import charts, importers
from apps.collections.forms import UploadForm, form_errors
from apps.collections.selectors import (
    collection_get,
    collection_list,
    import_file_get,
    import_file_list,
    post_list,
    rejected_row_list,
)
from apps.collections.services import (
    GENERIC_FORMAT,
    UPLOAD_EXTENSIONS,
    upload_import_start,
    upload_save,
    uploads_remove,
)
from apps.common.csvfile import csv_streaming_response
from apps.common.forms import service_errors_to_form
from apps.common.http import bad_request
from apps.common.ids import id_param
from apps.investigations.models import Role
from apps.investigations.selectors import investigation_get, membership_get

POSTS_PER_PAGE = 50
PREVIEW_ROWS = 5


def _wants_json(request) -> bool:
    return request.headers.get("x-requested-with") == "XMLHttpRequest" or "application/json" in request.headers.get(
        "accept", ""
    )


def _format_labels() -> dict:
    return dict(importers.FORMAT_LABELS)


@login_required
def collection_upload_view(request, pk: int):
    investigation = investigation_get(user=request.user, investigation_id=pk, role=Role.EDITOR)
    bound = request.method == "POST"
    form = UploadForm(request.POST if bound else None, request.FILES if bound else None, format_labels=_format_labels())
    if bound:
        job, errors = _upload_start(request, investigation, form)
        if job is not None:
            job_url = reverse("job-detail", args=[job.pk])
            if _wants_json(request):
                return JsonResponse({"job_id": job.pk, "job_url": job_url}, status=201)
            return redirect(job_url)
        if _wants_json(request):
            return JsonResponse({"errors": errors}, status=400)
    context = {
        "investigation": investigation,
        "form": form,
        "collections": collection_list(investigation=investigation),
        "generic_fields": list(importers.GENERIC_FIELDS),
        "generic_format": GENERIC_FORMAT,
        "upload_extensions": UPLOAD_EXTENSIONS,
    }
    return render(request, "collections/upload.html", context, status=400 if form.errors else 200)


def _upload_start(request, investigation, form: UploadForm):
    """Validate, then the upload service keeps the files and starts the import job (removing the files if
    it refuses): (job, None) or (None, {field: [messages]})."""
    if not form.is_valid():
        return None, form_errors(form)
    data = form.cleaned_data
    try:
        job = upload_import_start(
            investigation=investigation, user=request.user, files=data["files"], collection_name=data["collection"],
            format=data["format"] or None, mapping=data["mapping"], labels=data["labels"], no_header=data["no_header"],
        )
    except ValidationError as exc:
        service_errors_to_form(form, exc)
        return None, form_errors(form)
    return job, None


@login_required
@require_POST
def upload_preview_view(request, pk: int):
    investigation_get(user=request.user, investigation_id=pk, role=Role.EDITOR)
    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse({"error": "Send one file as 'file'."}, status=400)
    name = request.POST.get("name") or upload.name
    header = request.POST.get("no_header", "") not in ("1", "true", "on")
    saved = upload_save(files=[upload])
    try:
        # errors go in "error"
        result = importers.preview(pathlib.Path(saved[0]["path"]), name=name, rows=PREVIEW_ROWS, header=header)
    finally:
        uploads_remove(files=saved)
    return JsonResponse(result)


@login_required
def collection_detail_view(request, pk: int):
    collection = collection_get(user=request.user, collection_id=pk)
    stats = collection.stats or {}
    figures, label_charts = _overview_figures(stats)
    context = {
        "collection": collection,
        "investigation": collection.investigation,
        "stats": stats,
        "can_edit": membership_get(user=request.user, investigation_id=collection.investigation_id).allows(Role.EDITOR),
        "figures": figures,
        "label_charts": label_charts,
        "import_files": import_file_list(collection=collection).select_related("job"),
        "plotly_version": plotly.__version__,
    }
    return render(request, "collections/detail.html", context)


def _overview_figures(stats: dict) -> tuple[dict, list]:
    figures = {}
    if stats.get("posts_per_day"):
        figures["posts-per-day"] = charts.posts_per_day_figure(stats["posts_per_day"])
    if stats.get("top_accounts"):
        figures["top-accounts"] = charts.top_accounts_figure(stats["top_accounts"])
    tops = (("top_hashtags", "Top hashtags"), ("top_domains", "Top domains"), ("top_mentions", "Top mentions"))
    for key, title in tops:
        if stats.get(key):
            figures[key.replace("_", "-")] = charts.top_bar_figure(stats[key], title=title)
    if stats.get("post_kinds"):
        figures["post-kinds"] = charts.counts_pie_figure(stats["post_kinds"], title="Post kinds")
    label_charts = []
    for i, item in enumerate(charts.label_distribution_figures(stats.get("labels") or {})):
        figures[f"label-{i}"] = item["figure"]
        label_charts.append({"id": f"label-{i}", "scope": item["scope"], "key": item["key"]})
    return figures, label_charts


@login_required
def collection_posts_view(request, pk: int):
    collection = collection_get(user=request.user, collection_id=pk)
    try:
        account_id = id_param(request.GET.get("account"), name="account")
    except ValidationError as exc:
        return bad_request(request, exc)
    page = Paginator(post_list(collection=collection, account_id=account_id), POSTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "collection": collection,
        "investigation": collection.investigation,
        "page": page,
        "account_id": account_id,
        "extra_query": f"account={account_id}" if account_id else "",
        "account": page.object_list[0].account if account_id and page.object_list else None,
    }
    return render(request, "collections/posts.html", context)


@login_required
@require_GET
def import_file_rejected_view(request, pk: int):
    import_file = import_file_get(user=request.user, import_file_id=pk)
    rows = rejected_row_list(import_file=import_file).values_list("line", "field", "reason")

    def lines():
        yield ["file", "line", "field", "reason"]
        for line, field, reason in rows.iterator():
            yield [import_file.name, line, field, reason]

    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", import_file.name)[:100] or "import"
    return csv_streaming_response(lines(), filename=f"{stem}-rejected.csv")


@lru_cache(maxsize=1)
def _plotly_js_path() -> pathlib.Path:
    return pathlib.Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@require_GET
def plotly_js_view(request):
    """plotly.js from the installed plotly package (no CDN, no copy in the repo).

    Public like any static asset; pages add ``?v=<plotly version>`` so the long cache is safe.
    """
    response = FileResponse(_plotly_js_path().open("rb"), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
