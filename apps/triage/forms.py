from __future__ import annotations

from django import forms

from apps.triage.models import TriageQueue
from apps.triage.services import LABELS_PER_ITEM_MAX, SEED_MAX


class AnalysisChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        if obj.kind == "hybrid":
            accounts = obj.summary.get("accounts_scored")
            scored = f", {accounts:,} accounts" if isinstance(accounts, int) else ""
            return f"#{obj.pk} hybrid account score on {obj.collection.name}{scored} (accounts only)"
        posts = obj.summary.get("posts")
        scored = f", {posts:,} posts" if isinstance(posts, int) else ""
        model = obj.summary.get("model") or "a text model"
        return f"#{obj.pk} {model} on {obj.collection.name}{scored} ({obj.created_at:%Y-%m-%d %H:%M})"


class QueueForm(forms.Form):
    unit = forms.ChoiceField(choices=TriageQueue.Unit.choices, initial=TriageQueue.Unit.POST, label="Items",
                             required=False,
                             help_text="posts one at a time, or accounts (ordered by their mean post score, or by a "
                                       "hybrid analysis's account probability)")
    analysis = AnalysisChoiceField(queryset=None, label="Scores from", empty_label=None,
                                   help_text="a text model's scoring of a collection (its posts, or its accounts' "
                                             "mean scores, are the items), or for accounts a hybrid account score")
    order = forms.ChoiceField(choices=TriageQueue.Order.choices, initial=TriageQueue.Order.UNCERTAINTY)
    label_key = forms.CharField(max_length=64, initial="analyst_label",
                                help_text="the label the decisions write (Post.labels[key], or Account.labels[key] "
                                          "for accounts)")
    label_values = forms.CharField(max_length=1000, initial="operation,organic,unsure", label="Labels",
                                   help_text="2 to 9, comma-separated: keys 1–9 pick them in this order")
    seed = forms.IntegerField(min_value=0, max_value=SEED_MAX, initial=0, required=False,
                              help_text="random order only: the same seed gives the same order")
    labels_per_item = forms.IntegerField(min_value=0, max_value=LABELS_PER_ITEM_MAX, initial=0, required=False,
                                         label="Each item labelled by",
                                         help_text="N members (then it leaves the others' queues), for agreement; "
                                                   "0 or blank: every member labels every item")

    def __init__(self, *args, analyses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["analysis"].queryset = analyses
