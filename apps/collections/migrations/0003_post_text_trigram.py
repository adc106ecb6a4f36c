"""A trigram index for the workspace's text search, on PostgreSQL only.

The posts table's ``q`` filter is Django's ``text__icontains``, which PostgreSQL runs as
``UPPER(text::text) LIKE UPPER('%word%')``: a GIN index of ``pg_trgm`` trigrams on that very expression
answers it without reading every post of the collection (docs/benchmarks.md, "Workspace": 400–500 ms per
search on the IRA file without it). SQLite has no such index type; its searches stay scans, at the embedded
default's size. ``pg_trgm`` is a trusted extension (PostgreSQL 13+): the database's owner may create it.
"""
from django.db import migrations

INDEX = "post_text_upper_trgm_idx"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS {INDEX} ON collections_post USING gin ((UPPER("text"::text)) gin_trgm_ops)'
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("collections", "0002_post_time_optional_account_placeholder")]
    operations = [migrations.RunPython(forwards, backwards)]
