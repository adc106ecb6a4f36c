from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from apps.investigations.models import Role


def service_errors_to_form(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ``ValidationError({field: message})`` on the form; unknown fields go on top."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, messages in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


class InvestigationForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)


class MemberRemoveForm(forms.Form):
    username = forms.CharField(max_length=150)
