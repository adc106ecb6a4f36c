"""Page responses every app shares."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import render


def bad_request(request, error: ValidationError):
    """A 400 page that says what was wrong with the request (a malformed query parameter, ...)."""
    return render(request, "400.html", {"messages_400": error.messages}, status=400)
