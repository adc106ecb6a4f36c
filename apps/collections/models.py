"""Collections: what analysts upload, normalised once at ingest so detectors never re-parse.

Every row written by an import carries its ``ImportFile``, so an import that fails or whose worker
dies can be removed whole, leaving nothing half-written.

The four bulk tables (Account, Post, Entity, Interaction) hold millions of rows. Their foreign keys
are declared without database constraints and with ``DO_NOTHING``: the ingest writer is their only
writer and resolves every id itself, and per-row constraint triggers cost more than the inserts
(measured: a third of PostgreSQL's ingest time). Deleting them is the job of ``purge`` functions
(``apps.collections.ingest``), which a ``pre_delete`` signal on Collection calls, so deleting a
collection or an investigation through the ORM still removes them, in a few set-wise statements
instead of Django's row-by-row collector.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.investigations.models import Investigation


class Collection(models.Model):
    investigation = models.ForeignKey(Investigation, on_delete=models.CASCADE, related_name="collections")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # The overview's aggregates (counts, posts per day, top accounts...), recomputed by every import:
    # the overview is read far more often than a collection changes.
    stats = models.JSONField(default=dict, blank=True)
    stats_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["investigation", "name"], name="collection_name_unique")]

    def __str__(self) -> str:
        return self.name


class ImportFile(models.Model):
    """One file of one import job, with its accounting: rows read = stored + duplicates + rejected."""

    class Status(models.TextChoices):
        PENDING = "pending"
        IMPORTING = "importing"
        DONE = "done"
        FAILED = "failed"

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="import_files")
    job = models.ForeignKey("jobs.Job", on_delete=models.SET_NULL, null=True, related_name="import_files")
    name = models.CharField(max_length=500)
    format = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    rows_read = models.BigIntegerField(default=0)
    stored = models.BigIntegerField(default=0)
    duplicates = models.BigIntegerField(default=0)
    rejected = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class RejectedRow(models.Model):
    """A row that could not be stored, with where and why (the first MAX_REJECTED_KEPT per file)."""

    import_file = models.ForeignKey(ImportFile, on_delete=models.CASCADE, related_name="rejected_rows")
    line = models.BigIntegerField()
    field = models.CharField(max_length=200, blank=True)
    reason = models.TextField()

    class Meta:
        ordering = ["import_file_id", "line"]


class Account(models.Model):
    collection = models.ForeignKey(
        Collection, on_delete=models.DO_NOTHING, related_name="accounts", db_index=False, db_constraint=False
    )
    platform_id = models.CharField(max_length=200)
    handle = models.CharField(max_length=200, blank=True)
    display_name = models.CharField(max_length=500, blank=True)
    followers = models.BigIntegerField(null=True, blank=True)
    following = models.BigIntegerField(null=True, blank=True)
    created = models.DateTimeField(null=True, blank=True)
    labels = models.JSONField(default=dict, blank=True)
    # False for accounts known only as the target of a repost, quote, reply or tree edge.
    observed = models.BooleanField(default=True)
    # True for the stand-in author of a post whose file names none (platform id "row:<post id>", one per
    # post): no real account, so the overview, the account lists and the account-level detectors leave it
    # out, and its posts derive no interactions (see ``IngestWriter``).
    placeholder = models.BooleanField(default=False)
    import_file = models.ForeignKey(
        ImportFile, on_delete=models.DO_NOTHING, null=True, db_index=False, db_constraint=False, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["collection", "platform_id"], name="account_platform_id_unique")]
        indexes = [models.Index(fields=["collection", "handle"], name="account_handle_idx")]

    def __str__(self) -> str:
        return f"@{self.handle}" if self.handle else self.platform_id


class Post(models.Model):
    class Kind(models.TextChoices):
        POST = "post"
        REPOST = "repost"
        QUOTE = "quote"
        REPLY = "reply"

    collection = models.ForeignKey(
        Collection, on_delete=models.DO_NOTHING, related_name="posts", db_index=False, db_constraint=False
    )
    platform_id = models.CharField(max_length=200)
    account = models.ForeignKey(
        Account, on_delete=models.DO_NOTHING, related_name="posts", db_index=False, db_constraint=False
    )
    text = models.TextField(blank=True)
    # Null for a post whose file gives no time (labelled text-only sets): it derives no interactions, and
    # every reader by time (timelines, coordination, authorship, the overview's span) skips it.
    time = models.DateTimeField(null=True, blank=True)
    language = models.CharField(max_length=20, blank=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.POST)
    # The original of a repost/quote/reply, by platform id: it may not be in the collection.
    ref_post_id = models.CharField(max_length=200, blank=True)
    ref_account = models.ForeignKey(
        Account,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        db_index=False,
        db_constraint=False,
        related_name="+",
    )
    labels = models.JSONField(default=dict, blank=True)
    import_file = models.ForeignKey(
        ImportFile, on_delete=models.DO_NOTHING, null=True, db_constraint=False, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["collection", "platform_id"], name="post_platform_id_unique")]
        indexes = [
            models.Index(fields=["collection", "time"], name="post_collection_time_idx"),
            models.Index(fields=["account", "time"], name="post_account_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.platform_id} {self.text[:40]}"


class Entity(models.Model):
    """A hashtag (lower-cased), a normalised URL, its domain, a mention (lower-cased handle), an image hash."""

    class Kind(models.TextChoices):
        HASHTAG = "hashtag"
        URL = "url"
        DOMAIN = "domain"
        MENTION = "mention"
        IMAGE = "image"

    collection = models.ForeignKey(
        Collection, on_delete=models.DO_NOTHING, related_name="entities", db_index=False, db_constraint=False
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    value = models.CharField(max_length=1000)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["collection", "kind", "value"], name="entity_unique")]
        verbose_name_plural = "entities"

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class Interaction(models.Model):
    """(source account, target, action, time), derived once at ingest.

    Entity actions (hashtag, url, domain, mention, image) point at an Entity; account actions
    (repost, quote, reply) point at the original's account and carry its post id where known.
    """

    class Action(models.TextChoices):
        HASHTAG = "hashtag"
        URL = "url"
        DOMAIN = "domain"
        MENTION = "mention"
        IMAGE = "image"
        REPOST = "repost"
        QUOTE = "quote"
        REPLY = "reply"

    collection = models.ForeignKey(
        Collection, on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    post = models.ForeignKey(Post, on_delete=models.DO_NOTHING, related_name="interactions", db_constraint=False)
    source_account = models.ForeignKey(
        Account, on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    action = models.CharField(max_length=8, choices=Action.choices)
    target_account = models.ForeignKey(
        Account, on_delete=models.DO_NOTHING, null=True, related_name="+", db_index=False, db_constraint=False
    )
    target_entity = models.ForeignKey(
        Entity, on_delete=models.DO_NOTHING, null=True, related_name="interactions", db_constraint=False
    )
    target_post_id = models.CharField(max_length=200, blank=True)
    time = models.DateTimeField()
    # Which import wrote the row: a co-share row can add an entity to a post an earlier file stored.
    import_file = models.ForeignKey(
        ImportFile, on_delete=models.DO_NOTHING, null=True, db_index=False, db_constraint=False, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["collection", "action", "time"], name="interaction_action_time_idx"),
            models.Index(fields=["source_account", "time"], name="interaction_source_time_idx"),
            # Most rows point at an entity: indexing only the account actions spares every entity row an
            # index insert (a tenth of SQLite's ingest time) and still finds who reposted an account.
            models.Index(
                fields=["target_account"],
                name="interaction_target_account_idx",
                condition=models.Q(target_account__isnull=False),
            ),
        ]
