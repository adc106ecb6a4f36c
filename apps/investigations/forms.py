from __future__ import annotations

from django import forms

from apps.investigations.models import Role


class InvestigationForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)


class MemberRemoveForm(forms.Form):
    username = forms.CharField(max_length=150)
