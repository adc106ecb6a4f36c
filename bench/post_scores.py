"""What storing every scored post costs: writing the PostScore rows of a score analysis, one
page of the score page's posts table (highest first, lowest first, one account), and the CSV download.

    .venv/bin/python bench/post_scores.py [--posts N]

Runs on a fresh SQLite file in a temp folder (the embedded default), with synthetic posts and scores
(the model is not the subject here: bench/score.py measures scoring itself). The write is the scoring
job's own ``after_create`` inside one transaction, as the job runs it. Ends with one JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup(posts: int):
    """An investigation with one collection of ``posts`` posts by 1,000 accounts, and a score job."""
    from django.contrib.auth import get_user_model

    from apps.collections.models import Account, Collection, Post
    from apps.investigations.services import investigation_create
    from apps.jobs.models import Job

    user = get_user_model().objects.create_user("bench", password="bench-pass-123")
    investigation = investigation_create(user=user, name="bench")
    collection = Collection.objects.create(investigation=investigation, name="bench")
    accounts = Account.objects.bulk_create([Account(collection=collection, platform_id=str(i), handle=f"user{i}")
                                            for i in range(1000)])
    for start in range(0, posts, 20_000):
        Post.objects.bulk_create([Post(collection=collection, platform_id=str(i), account=accounts[i % 1000],
                                       text=f"post {i} about the dam deal", time="2024-03-01T00:00:00Z")
                                  for i in range(start, min(posts, start + 20_000))])
    job = Job.objects.create(investigation=investigation, kind="analysis:score", params={}, created_by=user)
    return user, investigation, collection, job


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-post-scores-") as tmp:
        os.environ.update({"MURMURATION_VAR_DIR": tmp, "DJANGO_SETTINGS_MODULE": "analyst_portal.settings"})
        os.environ.pop("DATABASE_URL", None)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", "--no-input", verbosity=0)
        print(json.dumps(run(args.posts)))


def run(posts: int) -> dict:
    from django.db import transaction
    from django.http import QueryDict
    from django.test import RequestFactory

    from apps.analyses.kinds.base import kind_get
    from apps.analyses.models import Analysis, PostScore
    from apps.analyses.text_views import score_posts_csv_view
    from apps.collections.models import Post

    user, investigation, collection, job = setup(posts)
    rng = random.Random(0)
    ids = list(Post.objects.filter(collection=collection).order_by("id").values_list("id", "account_id"))
    rows = {"post_id": [p for p, _ in ids], "account": [a for _, a in ids], "score": [rng.random() for _ in ids]}

    started = time.perf_counter()
    with transaction.atomic():
        analysis = Analysis.objects.create(
            investigation=investigation,
            job=job,
            kind="score",
            collection=collection,
            params={"model": 0},
            result={"per_post_stored": "all"},
            summary={},
            created_by=user,
        )
        kind_get("score").after_create(analysis, rows)
    write_s = time.perf_counter() - started
    assert PostScore.objects.filter(analysis=analysis).count() == posts

    pages = {}
    account = str(ids[0][1])
    for name, query in (
        ("high", "order=high"),
        ("low_last_page", "order=low&page=last"),
        ("account", f"account={account}"),
    ):
        started = time.perf_counter()
        page = kind_get("score").page_query(analysis, QueryDict(query))["posts_page"]
        [row.post.text for row in page.object_list]
        pages[name] = round((time.perf_counter() - started) * 1000, 1)

    request = RequestFactory().get("/")
    request.user = user
    started = time.perf_counter()
    lines = sum(
        chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
        for chunk in score_posts_csv_view(request, pk=analysis.pk).streaming_content
    )
    csv_s = time.perf_counter() - started
    assert lines == posts + 1

    started = time.perf_counter()
    analysis.delete()
    delete_s = time.perf_counter() - started
    return {
        "bench": "post_scores",
        "posts": posts,
        "write_rows_per_s": round(posts / write_s),
        "write_s": round(write_s, 2),
        "page_ms": pages,
        "csv_rows_per_s": round(posts / csv_s),
        "delete_s": round(delete_s, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


if __name__ == "__main__":
    main()
