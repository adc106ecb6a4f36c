"""What a locked-out login gets (django-axes calls this): a page on the form, JSON on the API."""
from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render

LOCKOUT_STATUS = 429


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return (f"Too many failed logins for this account or from this address: logins are refused for "
            f"{minutes} minutes. Try again later, or ask an administrator to unlock it.")


def lockout_response(request, original_response=None, credentials=None):
    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": lockout_message()}, status=LOCKOUT_STATUS)
    else:
        response = render(request, "registration/locked_out.html", {"message": lockout_message()},
                          status=LOCKOUT_STATUS)
    response["Retry-After"] = retry_after
    return response
