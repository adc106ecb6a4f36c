from __future__ import annotations

from django import forms

from apps.reports.models import Format, Section


class ReportForm(forms.Form):
    format = forms.ChoiceField(choices=Format.choices, initial=Format.HTML, widget=forms.RadioSelect)
    sections = forms.MultipleChoiceField(
        choices=Section.choices, initial=list(Section.values), widget=forms.CheckboxSelectMultiple,
        help_text="what the report holds; a STIX, MISP, CSV or Parquet file carries only what it can of them")
    min_weight = forms.FloatField(
        min_value=0.0, initial=0.0, required=False, label="Edge weight threshold (STIX)",
        help_text="coordination edges at or above this weight become STIX relationships (the 500 strongest per "
                  "network)")
