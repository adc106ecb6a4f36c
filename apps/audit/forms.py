from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


class AuditFilterForm(forms.Form):
    """The audit page's and CSV's filters (all optional). Choices are what the trail holds."""

    action = forms.ChoiceField(required=False)
    actor = forms.ChoiceField(required=False)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")

    def __init__(self, *args, facets: dict[str, list[str]], **kwargs):
        super().__init__(*args, **kwargs)
        families = sorted({action.split(".")[0] for action in facets["actions"]} - set(facets["actions"]))
        actions = sorted(facets["actions"] + families)
        self.fields["action"].choices = [("", "Any action")] + [(a, a if "." in a else f"{a}.*") for a in actions]
        self.fields["actor"].choices = [("", "Anyone")] + [(a, a) for a in facets["actors"]]

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise ValidationError("“From” is after “To”.")
        return data

    def filters(self) -> dict:
        return {key: value for key, value in self.cleaned_data.items() if value}
