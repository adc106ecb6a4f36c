"""What every app's pages share for forms."""
from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


def service_errors_to_form(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ``ValidationError({field: message})`` on the form; unknown fields go on top."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, messages in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)
