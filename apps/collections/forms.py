from __future__ import annotations

import json
from pathlib import PurePath

from django import forms

UPLOAD_EXTENSIONS = (".csv", ".tsv", ".json", ".jsonl", ".gz", ".zip")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ",".join(UPLOAD_EXTENSIONS)}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data] if data else []
        if not files:
            raise forms.ValidationError("Choose at least one file.")
        cleaned = [super(MultipleFileField, self).clean(f, initial) for f in files]
        bad = [f.name for f in cleaned if not f.name.lower().endswith(UPLOAD_EXTENSIONS)]
        if bad:
            raise forms.ValidationError(f"Not a supported file type: {', '.join(bad)} (use {', '.join(UPLOAD_EXTENSIONS)}).")
        return cleaned


def labels_parse(text: str) -> dict:
    """``key=value`` lines to a dict; blank lines and ``#`` comments are skipped."""
    labels = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise forms.ValidationError(f"Line {number}: write labels as key=value (got {line!r}).")
        labels[key.strip()] = value.strip()
    return labels


def collection_name_from_file(name: str) -> str:
    """``ira_tweets_2018.csv.gz`` -> ``ira_tweets_2018`` (the default collection name)."""
    path = PurePath(name)
    while path.suffix.lower() in UPLOAD_EXTENSIONS:
        path = path.with_suffix("")
    return path.name or name


class UploadForm(forms.Form):
    files = MultipleFileField()
    collection = forms.CharField(max_length=200, required=False)
    format = forms.ChoiceField(required=False)
    mapping = forms.CharField(required=False, widget=forms.HiddenInput)
    labels = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "source=twitter\nrelease=2018-10"}),
        help_text="Added to every post: one key=value per line.",
    )

    def __init__(self, *args, format_labels: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = [("", "Auto-detect"), *format_labels.items()]

    def clean_mapping(self) -> dict:
        raw = self.cleaned_data["mapping"].strip()
        if not raw:
            return {}
        try:
            mapping = json.loads(raw)
        except ValueError:
            raise forms.ValidationError("The column mapping is not valid JSON.") from None
        if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
            raise forms.ValidationError("The column mapping must map field names to column names.")
        return {k: v for k, v in mapping.items() if v}

    def clean_labels(self) -> dict:
        return labels_parse(self.cleaned_data["labels"])

    def clean(self):
        data = super().clean()
        if not data.get("collection") and data.get("files"):
            data["collection"] = collection_name_from_file(data["files"][0].name)
        return data


def form_errors(form: forms.Form) -> dict:
    """``{field: [message, ...]}`` with ``__all__`` for errors not tied to a field (the JSON error shape)."""
    return {field: [str(m) for m in messages] for field, messages in form.errors.items()}
