"""The API's Basic auth, told apart from a plain wrong password when django-axes has locked the login out.

axes marks the request it was given (DRF's Request, not the HttpRequest its middleware sees), so
without this a locked-out API client got a bare 401/403 and no reason.
"""
from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BasicAuthentication

from apps.common.lockout import lockout_message


class LockoutAwareBasicAuthentication(BasicAuthentication):
    def authenticate_credentials(self, userid, password, request=None):
        try:
            return super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed:
            if getattr(request, "axes_locked_out", False):
                raise exceptions.Throttled(wait=settings.AXES_COOLOFF_TIME.total_seconds(),
                                           detail=lockout_message()) from None
            raise


class LockoutAwareBasicScheme(OpenApiAuthenticationExtension):
    """The schema describes it as the plain HTTP Basic auth it is."""

    target_class = LockoutAwareBasicAuthentication
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic"}
