from __future__ import annotations

from django import forms

from apps.notes.models import NOTE_TARGETS, TAG_TARGETS, TargetType


def _choices(values):
    return [(v, TargetType(v).label) for v in values]


class NoteForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), help_text="Markdown.")
    target_type = forms.ChoiceField(choices=_choices(NOTE_TARGETS), initial=TargetType.INVESTIGATION, label="On")
    account = forms.IntegerField(required=False, min_value=1, help_text="account id (account targets)")
    post = forms.IntegerField(required=False, min_value=1, help_text="post id (post targets)")
    entity = forms.IntegerField(required=False, min_value=1, help_text="entity id (entity targets)")
    analysis = forms.IntegerField(required=False, min_value=1, help_text="analysis id (analysis, community, edge)")
    community = forms.IntegerField(required=False, min_value=0, help_text="community number")
    source = forms.IntegerField(required=False, min_value=1, help_text="edge source account id")
    target = forms.IntegerField(required=False, min_value=1, help_text="edge target account id")
    pin = forms.IntegerField(required=False, min_value=1, help_text="pin id (pin targets)")

    def target_ref(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k not in ("body", "target_type") and v is not None}


class NoteEditForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), help_text="Markdown.")


class TagForm(forms.Form):
    technique = forms.CharField(max_length=20, help_text="a DISARM technique id, e.g. T0049")
    target_type = forms.ChoiceField(choices=_choices(TAG_TARGETS), label="On")
    note = forms.IntegerField(required=False, min_value=1, help_text="note id (note targets)")
    pin = forms.IntegerField(required=False, min_value=1, help_text="pin id (pin targets)")
    account = forms.IntegerField(required=False, min_value=1, help_text="account id (account targets)")
    analysis = forms.IntegerField(required=False, min_value=1, help_text="analysis id (community targets)")
    community = forms.IntegerField(required=False, min_value=0, help_text="community number")
    seen_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    procedure = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                help_text="how the technique was carried out here")

    def target_ref(self) -> dict:
        fields = ("note", "pin", "account", "analysis", "community")
        return {k: self.cleaned_data[k] for k in fields if self.cleaned_data.get(k) is not None}
