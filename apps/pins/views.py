"""Pages: a pin reopens its view, serves its thumbnail; the storyline page shows and (for editors) edits
the case's storyline with plain POST forms, no script needed."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.common.ids import as_id
from apps.investigations.models import Role
from apps.investigations.selectors import investigation_get, membership_get
from apps.pins import services
from apps.pins.selectors import pin_get, pin_thumbnail_get, storyline_candidates, storyline_get
from apps.pins.validation import CAPTION_MAX, TEXT_MAX


@login_required
@require_GET
def pin_open_view(request, pk: int):
    return redirect(pin_get(user=request.user, pin_id=pk).url)


@login_required
@require_GET
def pin_thumbnail_view(request, pk: int):
    png = pin_thumbnail_get(user=request.user, pin_id=pk)
    if png is None:
        raise Http404("This pin has no thumbnail.")
    response = HttpResponse(png, content_type="image/png")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = f'inline; filename="pin-{pk}.png"'
    patch_cache_control(response, private=True, max_age=3600)  # members only; a pin's PNG never changes
    return response


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def storyline_view(request, pk: int):
    membership = membership_get(user=request.user, investigation_id=pk)
    if request.method != "POST":
        return _page(request, membership)
    investigation = investigation_get(user=request.user, investigation_id=pk, role=Role.EDITOR)
    item_id = as_id(request.POST.get("item", ""))
    try:
        _storyline_edit(request, investigation, item_id)
    except ValidationError as exc:
        return _page(request, membership, errors=exc)
    return redirect(reverse("storyline", args=[pk]) + (f"#item-{item_id}" if item_id else ""))


def _page(request, membership, *, errors: ValidationError | None = None):
    """The storyline page; with ``errors`` (a refused edit) it says why, with status 400."""
    investigation = membership.investigation
    context = {
        "investigation": investigation,
        "can_edit": membership.allows(Role.EDITOR),
        "items": storyline_get(investigation=investigation),
        "candidates": storyline_candidates(investigation=investigation),
        "caption_max": CAPTION_MAX,
        "text_max": TEXT_MAX,
        "errors": errors.messages if errors else [],
    }
    return render(request, "pins/storyline.html", context, status=400 if errors else 200)


def _storyline_edit(request, investigation, item_id: int | None) -> None:
    """One step from a storyline row's buttons (up, down, remove, text) or from the add form."""
    action = request.POST.get("action")
    common = {"investigation": investigation, "user": request.user}
    if action in ("up", "down", "remove", "text") and item_id is None:
        raise ValidationError({"item": "Which storyline item? (the form sent no item id)"})
    if action in ("up", "down"):
        services.storyline_move(**common, item_id=item_id, step=-1 if action == "up" else 1)
    elif action == "remove":
        services.storyline_remove(**common, item_id=item_id)
    elif action == "text":
        services.storyline_text(**common, item_id=item_id, text=request.POST.get("text", ""))
    elif action == "add":
        kind, _, raw = request.POST.get("target", "").partition(":")
        if kind not in ("pin", "note") or as_id(raw) is None:
            raise ValidationError({"target": "Choose a note or a pin to add."})
        services.storyline_append(**common, kind=kind, pk=as_id(raw))
    else:
        raise ValidationError({"action": f"Unknown storyline action {str(action)[:40]!r}."})


@login_required
@require_POST
def pin_edit_view(request, pk: int):
    pin = pin_get(user=request.user, pin_id=pk, role=Role.EDITOR)
    try:
        services.pin_update(pin=pin, user=request.user, caption=request.POST.get("caption", ""))
    except ValidationError as exc:
        return _page(request, membership_get(user=request.user, investigation_id=pin.investigation_id), errors=exc)
    messages.success(request, f"Pin #{pin.pk} renamed.")
    return redirect(reverse("storyline", args=[pin.investigation_id]) + f"#pin-{pin.pk}")


@login_required
@require_POST
def pin_delete_view(request, pk: int):
    pin = pin_get(user=request.user, pin_id=pk, role=Role.EDITOR)
    services.pin_delete(pin=pin, user=request.user)
    messages.success(request, f"Pin #{pk} was deleted.")
    return redirect("storyline", pin.investigation_id)
