from __future__ import annotations

from django import forms

from apps.collections.services import UPLOAD_EXTENSIONS, labels_parse, mapping_parse


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files; their names are checked by the upload service, as the API's are."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ",".join(UPLOAD_EXTENSIONS)}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data] if data else []
        if not files:
            raise forms.ValidationError("Choose at least one file.")
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class UploadForm(forms.Form):
    files = MultipleFileField()
    collection = forms.CharField(max_length=200, required=False)
    format = forms.ChoiceField(required=False)
    mapping = forms.CharField(required=False, widget=forms.HiddenInput)
    no_header = forms.BooleanField(
        required=False, label="The first row is data (no header row)",
        help_text="Columns are then named by position: col1, col2, …",
    )
    labels = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "source=twitter\nrelease=2018-10"}),
        help_text="Added to every post: one key=value per line.",
    )

    def __init__(self, *args, format_labels: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = [("", "Auto-detect"), *format_labels.items()]

    def clean_mapping(self) -> dict:
        return mapping_parse(self.cleaned_data["mapping"])

    def clean_labels(self) -> dict:
        return labels_parse(self.cleaned_data["labels"])


def form_errors(form: forms.Form) -> dict:
    """``{field: [message, ...]}`` with ``__all__`` for errors not tied to a field (the JSON error shape)."""
    return {field: [str(m) for m in messages] for field, messages in form.errors.items()}
