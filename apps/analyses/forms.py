from __future__ import annotations

from django import forms


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
    text = forms.CharField(max_length=2000, label="Post text", widget=forms.Textarea(attrs={"rows": 3, "data-testid": "score-text"}))
