from __future__ import annotations

from django import forms

from apps.analyses.kinds.base import CHOICE, DATE, FLAG, FLOAT, INT, LIST, TEXT, Kind, Param


class AuthorshipStartForm(forms.Form):
    account = forms.CharField(max_length=200, help_text="Pick an account, or type its handle or platform id.")

    def __init__(self, *args, choices: list[dict] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if choices:
            options = [(c["handle"], f"@{c['handle']} · {c['posts']:,} posts") for c in choices]
            self.fields["account"].widget = forms.Select(choices=options, attrs={"data-testid": "account-select"})
        else:
            self.fields["account"].widget.attrs.update({"data-testid": "account-input", "placeholder": "@handle"})


class ScoreForm(forms.Form):
    text = forms.CharField(
        max_length=2000, label="Post text", widget=forms.Textarea(attrs={"rows": 3, "data-testid": "score-text"})
    )


class _Many(forms.Field):
    """Ticked boxes as a list of strings: which values are allowed is the kind's check, as for the API."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value):
        return [str(v) for v in value] if isinstance(value, (list, tuple)) else []


def param_field(param: Param, choices: list | None = None) -> forms.Field:
    """A start page's field for a declared parameter. Fields only carry values: the kind's ``check`` decides
    (``ParamsForm`` shows its sentences), so a page, the API and ``run_analysis`` say the same thing."""
    default = param.default_value()
    options = choices if choices is not None else [(c, param.choice_labels.get(c, c)) for c in param.choices]
    common = {"required": False, "help_text": param.help, "label": param.label or None}
    if param.type == FLAG:
        return forms.BooleanField(initial=default, **common)
    if param.type == LIST:
        if options:
            return _Many(widget=forms.CheckboxSelectMultiple(choices=options), initial=default, **common)
        return forms.CharField(initial=", ".join(map(str, default or [])), **common)
    if param.type in (CHOICE, TEXT, INT) and options:
        blank = [] if param.type == CHOICE else [("", "—")]
        return forms.CharField(widget=forms.Select(choices=blank + list(options)), initial=default, **common)
    if param.type in (INT, FLOAT):
        attrs = {"step": "1" if param.type == INT else "any"}
        return forms.CharField(widget=forms.NumberInput(attrs=attrs), initial=default, **common)
    if param.type == DATE:
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), initial=default, **common)
    return forms.CharField(initial=default, **common)


class ParamsForm(forms.Form):
    """The start form of an analysis kind, generated from its declared parameters (those with ``form=True``,
    less ``exclude``); ``choices`` fills fields whose options depend on the investigation (its collections,
    its models). A subclass may declare more fields (the collection to score) ahead of the parameters."""

    def __init__(self, data=None, *, kind: Kind, choices: dict | None = None, exclude=(), **kwargs):
        super().__init__(data, **kwargs)
        self.kind = kind
        for param in kind.params:
            if param.form and param.name not in exclude:
                self.fields[param.name] = param_field(param, (choices or {}).get(param.name))

    def params(self) -> dict:
        """The parameters typed in: blanks left out, so the kind's defaults apply."""
        names = {p.name for p in self.kind.params}
        return {k: v for k, v in self.cleaned_data.items() if k in names and v not in (None, "")}


class ScoreStartForm(ParamsForm):
    collection = forms.TypedChoiceField(coerce=int, help_text="A collection of this investigation.")

    def __init__(self, data=None, *, kind: Kind, collections=(), int8_report=None, **kwargs):
        super().__init__(data, kind=kind, **kwargs)
        self.fields["collection"].choices = [(c.pk, c.name) for c in collections]
        r = int8_report or {}
        moved = r.get("per_post_change") or {}  # one post's change (models trained before it was measured: none)
        self.fields["mode"].help_text = (
            f"int8 on this model's {r['posts']:,} held-out posts: AUC {r['auc_fp32']:.4f} → {r['auc_int8']:.4f} "
            f"({r['auc_change']:+.4f}), {r['changed_predictions']:.1%} of predictions flip"
            + (f"; one post's score moves by {moved['median']:.4f} at the median, {moved['p99']:.3f} at the 99th "
               f"percentile, {moved['max']:.3f} at most." if moved.get("max") is not None else ".")
            if "auc_change" in r
            else "The int8 change was not measured for this model"
            + (f" ({r['error']})." if r.get("error") else " (trained before it was).")
        )


class LMSampleForm(forms.Form):
    prompt = forms.CharField(
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"data-testid": "lm-prompt"}),
        help_text="The start of a post (blank: from nothing).",
    )
    n = forms.IntegerField(initial=3, min_value=1, max_value=5, label="Samples")
    max_new_tokens = forms.IntegerField(initial=40, min_value=1, max_value=100, label="Tokens each")
    temperature = forms.FloatField(initial=1.0, min_value=0.1, max_value=2.0)
