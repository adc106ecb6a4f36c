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


ENTITY_TYPE_CHOICES = [(t, t) for t in ("hashtag", "url", "domain", "mention", "image")]
ACTION_CHOICES = [("repost", "co-retweet"), ("url", "co-link"), ("hashtag", "co-hashtag"), ("mention", "co-mention"),
                  ("reply", "co-reply"), ("text", "near-duplicate text")]


class CoordinationStartForm(forms.Form):
    """Field types only; the ranges are the kind's ``params_check``, so page, API and command agree."""

    entity_types = forms.MultipleChoiceField(choices=ENTITY_TYPE_CHOICES, initial=["hashtag", "url", "mention"],
                                             widget=forms.CheckboxSelectMultiple, help_text="Each entity is a topic (seed 002 §4.1).")
    bin_seconds = forms.IntegerField(initial=3600, help_text="Time bin in seconds: the paper uses one hour; a following "
                                     "account must act in the next bin.")
    min_posts = forms.IntegerField(initial=5, help_text="Accounts with fewer posts carrying these entities are left out.")
    rule = forms.ChoiceField(choices=[("significant", "significant (Poisson test, FDR)"), ("paper", "paper: every M < 1")], initial="significant")
    alpha = forms.FloatField(initial=0.05, help_text="False-discovery rate of the significant edges, in (0, 1).")
    exclude_entities = forms.CharField(required=False, help_text="Comma-separated, e.g. hashtag:xinjiang (the search terms).")
    event_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text="Optional: split the network before and after this date (seed 002 §5.4).")


class CoactionStartForm(forms.Form):
    actions = forms.MultipleChoiceField(choices=ACTION_CHOICES, initial=[c for c, _ in ACTION_CHOICES], widget=forms.CheckboxSelectMultiple)
    window = forms.FloatField(initial=60, help_text="Seconds: two accounts co-act when they hit one target this close in time.")
    windows = forms.CharField(initial="1,10,60,600,3600", help_text="The sweep: comma-separated windows in seconds.")
    rule = forms.ChoiceField(choices=[("significant", "significant (Poisson test, FDR)"), ("raw", "raw: weight ≥ min weight")], initial="significant")
    alpha = forms.FloatField(initial=0.05)
    min_weight = forms.IntegerField(initial=1, help_text="Fewest co-actions an edge needs.")



class PropagationStartForm(forms.Form):
    kinds = forms.MultipleChoiceField(choices=[("repost", "reposts"), ("quote", "quotes"), ("reply", "replies")],
                                      initial=["repost", "quote", "reply"], widget=forms.CheckboxSelectMultiple,
                                      help_text="What counts as a descendant of a source post.")
    min_size = forms.IntegerField(initial=2, help_text="Smallest cascade measured, in posts (the source included).")
    label_key = forms.CharField(required=False, help_text="Post label to split the metrics by (blank: the most common, e.g. veracity).")


class RetweetNetworkStartForm(forms.Form):
    actions = forms.MultipleChoiceField(choices=[("repost", "reposts"), ("quote", "quotes"), ("reply", "replies")], initial=["repost"],
                                        widget=forms.CheckboxSelectMultiple, help_text="An edge from the account that acted to the account it took from.")
    min_weight = forms.IntegerField(initial=1, help_text="Fewest retweets an edge needs.")
    method = forms.ChoiceField(choices=[("louvain", "Louvain"), ("infomap", "InfoMap (optional extra, AGPL: only if installed)")], initial="louvain")
    giant_only = forms.BooleanField(required=False, help_text="Keep only the largest connected component.")
    label_key = forms.CharField(required=False, help_text="Post label to colour accounts by what they shared (blank: the most common).")


class HashtagNetworkStartForm(forms.Form):
    min_count = forms.IntegerField(initial=2, help_text="A hashtag needs this many posts.")
    min_weight = forms.IntegerField(initial=1, help_text="An edge needs this many posts with both hashtags.")
    top_k = forms.IntegerField(initial=500, help_text="Then keep the k most used hashtags (at most 5,000).")
    exclude = forms.CharField(required=False, help_text="Comma-separated hashtags to leave out (e.g. the search term).")
    method = forms.ChoiceField(choices=[("louvain", "Louvain"), ("infomap", "InfoMap (optional extra, AGPL: only if installed)")], initial="louvain")
    giant_only = forms.BooleanField(required=False, help_text="Keep only the largest connected component.")
    label_key = forms.CharField(required=False, help_text="Post label to colour hashtags by (blank: the most common).")


class TrainClassifierStartForm(forms.Form):
    """Field types only; the kind's ``params_check`` holds the rules, so page, API and command agree."""

    name = forms.CharField(required=False, max_length=200, help_text="Blank: named after its labels and collection.")
    label_source = forms.ChoiceField(choices=[("account_label", "an account label"), ("post_label", "a post label"),
                                              ("collections", "two collections (positive vs negative)")], initial="account_label")
    label_key = forms.CharField(required=False, help_text="e.g. account_category (account label) or veracity (post label).")
    positive_values = forms.CharField(required=False, help_text="Comma-separated values that mean IO, e.g. RightTroll,LeftTroll; the other values are the control class.")
    positive_collection = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, help_text="For two collections.")
    negative_collection = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    model = forms.ChoiceField(choices=[("encoder", "encoder (bundled MiniLM-L6, fine-tuned)"), ("gpt2", "tiny GPT-2 trained from scratch")], initial="encoder")
    base_dir = forms.CharField(required=False, max_length=500, help_text="Optional: a local model directory on the server (config.json inside).")
    max_posts = forms.IntegerField(required=False, initial=2000, help_text="Posts read, at most half a class, sampled with a fixed seed. 2,000 with MiniLM: about a minute on 2 CPU cores.")
    epochs = forms.IntegerField(required=False, help_text="Blank: 1 for the encoder, 5 for the tiny GPT-2.")
    batch_size = forms.IntegerField(required=False)
    learning_rate = forms.FloatField(required=False)
    max_length = forms.IntegerField(required=False, initial=64, help_text="Tokens per post.")

    def __init__(self, *args, collections=(), **kwargs):
        super().__init__(*args, **kwargs)
        options = [("", "—")] + [(c.pk, c.name) for c in collections]
        self.fields["positive_collection"].choices = options
        self.fields["negative_collection"].choices = options


class ScoreStartForm(forms.Form):
    collection = forms.TypedChoiceField(coerce=int, help_text="A collection of this investigation.")
    max_posts = forms.IntegerField(required=False, initial=20000, help_text="Over this, every k-th post by id.")
    threshold = forms.FloatField(required=False, help_text="Blank: the model's own (0.5).")
    mode = forms.ChoiceField(required=False, choices=[("fp32", "fp32 (exact)"), ("int8", "int8 (faster; single scores can move, the AUC change below)")],
                             initial="fp32")

    def __init__(self, *args, collections=(), int8_report=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collection"].choices = [(c.pk, c.name) for c in collections]
        r = int8_report or {}
        self.fields["mode"].help_text = (
            f"int8 on this model's {r['posts']:,} held-out posts: AUC {r['auc_fp32']:.4f} → {r['auc_int8']:.4f} "
            f"({r['auc_change']:+.4f}), {r['changed_predictions']:.1%} of predictions flip." if "auc_change" in r
            else "The int8 change was not measured for this model" + (f" ({r['error']})." if r.get("error") else " (trained before it was)."))


class TrainLMStartForm(forms.Form):
    """A language model of one collection (issue #3): field types only; the kind's ``params_check`` holds the rules."""

    name = forms.CharField(required=False, max_length=200, help_text="Blank: “LM · <collection>”.")
    base_dir = forms.CharField(required=False, max_length=500, help_text="Optional: a local GPT-2 directory on the server to fine-tune. "
                               "Blank: a tiny GPT-2 trained from scratch with a tokenizer learnt from this collection (the CPU default).")
    max_posts = forms.IntegerField(required=False, initial=2000, help_text="Posts read (every k-th by id over this); a third are held out.")
    epochs = forms.IntegerField(required=False, help_text="Blank: 3 from scratch, 1 fine-tuning.")
    batch_size = forms.IntegerField(required=False)
    learning_rate = forms.FloatField(required=False, help_text="Blank: 1e-3 from scratch, 5e-5 fine-tuning.")
    max_length = forms.IntegerField(required=False, initial=64, help_text="Tokens per post.")


class PerplexityMatrixStartForm(forms.Form):
    """The cross-perplexity matrix and attribution (issue #3)."""

    models = forms.TypedMultipleChoiceField(coerce=int, widget=forms.CheckboxSelectMultiple, help_text="The rows: language models of this investigation.")
    collections = forms.TypedMultipleChoiceField(coerce=int, widget=forms.CheckboxSelectMultiple,
                                                 help_text="The columns, at least two: each scored on posts no chosen model trained on.")
    target = forms.TypedChoiceField(required=False, coerce=int, empty_value=None,
                                    help_text="Optional: a collection to attribute — the models ranked by perplexity on it.")
    sample_posts = forms.IntegerField(required=False, initial=200, help_text="At most this many posts per collection.")
    include_base = forms.BooleanField(required=False, initial=True, help_text="Add the untuned base model as a row, where there is one.")

    def __init__(self, *args, models=(), collections=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["models"].choices = [(m.pk, m.name) for m in models]
        self.fields["collections"].choices = [(c.pk, c.name) for c in collections]
        self.fields["target"].choices = [("", "—")] + [(c.pk, c.name) for c in collections]


class LMSampleForm(forms.Form):
    prompt = forms.CharField(required=False, max_length=200, widget=forms.TextInput(attrs={"data-testid": "lm-prompt"}),
                             help_text="The start of a post (blank: from nothing).")
    n = forms.IntegerField(initial=3, min_value=1, max_value=5, label="Samples")
    max_new_tokens = forms.IntegerField(initial=40, min_value=1, max_value=100, label="Tokens each")
    temperature = forms.FloatField(initial=1.0, min_value=0.1, max_value=2.0)
