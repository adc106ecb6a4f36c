"""Analyses: the stored outcome of every detector run, one row per successful job."""
from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import models

from apps.analyses.kinds.base import kind_label
from apps.collections.models import Post
from apps.investigations.models import Investigation


class Analysis(models.Model):
    """Written once, at the end of its job, in one transaction: a row here is always complete.

    ``result`` holds what the kind's page draws (bounded: e.g. at most 500 ranked posts);
    ``summary`` is the small dict the command's JSON line and the list pages show.
    """

    investigation = models.ForeignKey(Investigation, on_delete=models.CASCADE, related_name="analyses")
    job = models.OneToOneField("jobs.Job", on_delete=models.CASCADE, related_name="analysis")
    kind = models.CharField(max_length=40)
    # The input collection; null for kinds that read several collections.
    collection = models.ForeignKey(
        "collections.Collection", on_delete=models.CASCADE, null=True, blank=True, related_name="analyses"
    )
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "analyses"
        indexes = [models.Index(fields=["investigation", "-created_at"], name="analysis_investigation_idx")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def title(self) -> str:
        """What lists call it: the kind and its subject (an account, a hashtag...), when it has one."""
        kind = kind_label(self.kind)
        subject = self.summary.get("account") or self.params.get("account")
        return f"{kind} of @{subject}" if subject else kind


class TextModel(models.Model):
    """A text classifier trained by a ``train_classifier`` analysis: its settings, what it
    learnt from (collections with a fingerprint), its held-out metrics, and weights on disk.

    The weights live in ``MEDIA_ROOT/models/<id>``, written when the training job succeeds and removed by
    the services that delete the row (``text_model_delete``, ``investigation_delete``) once that commits.
    """

    class Kind(models.TextChoices):
        ENCODER = "encoder", "encoder (BERT-like)"
        GPT2 = "gpt2", "GPT-2 with a [CLS] head"
        LM = "lm", "language model of a collection"

    investigation = models.ForeignKey(Investigation, on_delete=models.CASCADE, related_name="text_models")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    base_model = models.CharField(max_length=500, help_text='a local directory, or "bundled MiniLM" / "tiny GPT-2"')
    params = models.JSONField(default=dict, blank=True)
    # [{"id", "name", "posts", "max_post_id"}]: the collections read, as they were when training read them.
    training = models.JSONField(default=list, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    split = models.JSONField(default=dict, blank=True)
    history = models.JSONField(default=dict, blank=True)
    job = models.ForeignKey("jobs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="text_models")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["investigation", "-created_at"], name="textmodel_investigation_idx")]

    def __str__(self) -> str:
        return f"{self.name} (#{self.pk})"

    @property
    def weights_dir(self) -> Path:
        return Path(settings.MEDIA_ROOT) / "models" / str(self.pk)

    def training_changed(self) -> list[str]:
        """Names of training collections whose posts changed since training (count or newest id)."""
        changed = []
        for c in self.training:
            posts = Post.objects.filter(collection_id=c["id"])
            now = {"posts": posts.count(), "max_post_id": posts.aggregate(m=models.Max("id"))["m"]}
            if now != {"posts": c["posts"], "max_post_id": c["max_post_id"]}:
                changed.append(c["name"])
        return changed


class PostScore(models.Model):
    """One post's score from a ``score`` analysis : every scored post, written in bulk by the job
    in the same transaction as its Analysis row, deleted with it (a single DELETE: nothing refers to it).

    ``post`` and ``account`` are plain ids into the bulk tables (no database constraint, as there)."""

    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="post_scores", db_index=False)
    post = models.ForeignKey(
        "collections.Post", on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    account = models.ForeignKey(
        "collections.Account", on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    score = models.FloatField()
    # The post's distance to the model's training posts (ml.text.ood); null for a model trained before the
    # out-of-distribution check existed.
    ood = models.FloatField(null=True, blank=True)
    # The collection's shift check (ml.text.ood.CollectionShift): the odds, as a probability, that a post like this
    # one comes from the scored collection rather than the training posts; null where the check did not run.
    shift = models.FloatField(null=True, blank=True)
    # The mark every page, CSV and API reads: beyond the training range (``result["ood"]["p99"]``) or above the
    # shift limit (``result["ood"]["shift_check"]["limit"]``); null where nothing was measured.
    unreliable = models.BooleanField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["analysis", "-score"], name="postscore_analysis_score_idx"),
            models.Index(fields=["analysis", "post"], name="postscore_analysis_post_idx"),
            models.Index(fields=["analysis", "account"], name="postscore_analysis_account_idx"),
        ]
