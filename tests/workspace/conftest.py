"""A small investigation for the workspace API: 300 posts by 20 accounts over about four days, every time slot
shared by three posts (ties), twelve posts with no time, four hashtags, a score analysis scoring every other post
(scores tie too), a stored coordination network of twelve accounts in two communities and a stored hashtag network
in two communities. Analysis rows are written directly: no job runs.

``world["posts"]`` keeps what each post was given, so a test computes what the API must answer in plain Python."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from apps.analyses.models import Analysis, PostScore, TextModel
from apps.collections.models import Account, Collection, Entity, Interaction, Post
from apps.jobs.models import Job

START = datetime(2024, 3, 1, 6, 30, tzinfo=timezone.utc)
POSTS, ACCOUNTS, SLOTS = 300, 20, 100
TAGS = ("alpha", "beta", "gamma", "delta")
COORDINATED = range(12)  # accounts in the coordination network: 0-5 community 0, 6-11 community 1


def post_spec(i: int) -> dict:
    """Post i: its account, time (slot (37 i) mod 100: three posts per slot, out of id order; every 25th none),
    text, labels, hashtags and score (every other post, 50 values: ties)."""
    untimed = i % 25 == 24
    tags = {TAGS[i % 4]} | ({"alpha"} if i % 5 == 0 else set())
    return {
        "account": i % ACCOUNTS,
        "time": None if untimed else START + timedelta(hours=(i * 37) % SLOTS),
        "text": f"post {i}: " + ("the Vaccine HOAX again" if i % 10 == 0 else "weather report"),
        "labels": {"veracity": "false" if i % 3 == 0 else "true", "batch": i % 4},
        "tags": set() if untimed else tags,
        "score": ((i * 13) % 50) / 50 if i % 2 == 0 else None,
    }


def _analysis(inv, col, user, kind: str, *, result: dict, summary: dict, params: dict, when: datetime) -> Analysis:
    job = Job.objects.create(investigation=inv, kind=f"analysis:{kind}", status="succeeded", params={})
    analysis = Analysis.objects.create(investigation=inv, job=job, kind=kind, collection=col, created_by=user,
                                       params=params, result=result, summary=summary)
    Analysis.objects.filter(pk=analysis.pk).update(created_at=when)
    analysis.refresh_from_db()
    return analysis


def coordination_result(accounts: list[Account]) -> dict:
    nodes = [
        {"id": accounts[a].pk, "handle": accounts[a].handle, "labels": accounts[a].labels, "community": a // 6,
         "influence": float(12 - a), "strength": float(20 - a), "x": float(a), "y": float(a % 3),
         "influence_rank": a + 1}
        for a in COORDINATED
    ]
    edges = [{"source": accounts[a].pk, "target": accounts[a + 1].pk, "weight": 1.0 + a, "M": 0.5, "significant": True}
             for a in COORDINATED if a + 1 in COORDINATED and a // 6 == (a + 1) // 6]
    communities = [{"community": c, "size": 6, "accounts": [{"id": accounts[a].pk, "handle": accounts[a].handle}
                                                            for a in COORDINATED if a // 6 == c], "make_up": {}}
                   for c in (0, 1)]
    return {"nodes": nodes, "edges": edges, "edges_stored": len(edges), "edges_total": len(edges),
            "communities": communities, "communities_total": 2, "top_influencer": accounts[0].pk,
            "top_influencer_handle": accounts[0].handle, "label_keys": ["category"], "counts": {"all": {}},
            "rule": "significant", "grid_start": START.timestamp(), "type_edges": {}, "type_edges_total": {},
            "inputs": {}}


def hashtag_result() -> dict:
    nodes = [{"id": t, "handle": t, "labels": {}, "community": i // 2, "x": float(i), "y": 0.0, "strength": 1.0,
              "giant": True, "count": 10} for i, t in enumerate(TAGS)]
    return {"nodes": nodes, "edges": [{"source": "alpha", "target": "beta", "weight": 3.0},
                                      {"source": "gamma", "target": "delta", "weight": 2.0}],
            "edges_stored": 2, "edges_total": 2, "communities": [], "communities_total": 2, "modularity": 0.5,
            "method": "louvain", "layout": "spring", "giant_size": 4, "directed": False, "label_keys": [],
            "label_key": None, "counts": {}, "inputs": {}, "timings": {}, "top_hashtags": list(TAGS),
            "top_domains": []}


@pytest.fixture
def world(investigation, users):
    inv, alice = investigation, users["alice"]
    col = Collection.objects.create(investigation=inv, name="takedown")
    accounts = Account.objects.bulk_create(
        Account(collection=col, platform_id=f"u{a}", handle=f"acct{a}",
                labels={"category": "troll" if a < 5 else "news"}, followers=100 + a)
        for a in range(ACCOUNTS)
    )
    entities = {t: Entity.objects.create(collection=col, kind="hashtag", value=t) for t in TAGS}
    specs = [post_spec(i) for i in range(POSTS)]
    posts = Post.objects.bulk_create(
        Post(collection=col, account=accounts[s["account"]], platform_id=f"p{i}", text=s["text"], time=s["time"],
             labels=s["labels"], language="en")
        for i, s in enumerate(specs)
    )
    Interaction.objects.bulk_create(
        Interaction(collection=col, post=p, source_account_id=p.account_id, action="hashtag",
                    target_entity=entities[t], time=p.time)
        for p, s in zip(posts, specs) for t in sorted(s["tags"])
    )
    done = Job.objects.create(investigation=inv, kind="analysis:train_classifier", status="succeeded", params={})
    model = TextModel.objects.create(investigation=inv, name="clf", kind="encoder", base_model="tiny", job=done)
    score = _analysis(inv, col, alice, "score", result={}, summary={"model": "clf"}, params={"model": model.pk},
                      when=START + timedelta(days=10))
    PostScore.objects.bulk_create(
        PostScore(analysis=score, post=p, account_id=p.account_id, score=s["score"])
        for p, s in zip(posts, specs) if s["score"] is not None
    )
    coordination = _analysis(inv, col, alice, "coordination", result=coordination_result(accounts),
                             summary={"accounts": 12, "edges": 10}, params={"entity_types": ["hashtag"]},
                             when=START + timedelta(days=11))
    hashtags = _analysis(inv, col, alice, "hashtag_network", result=hashtag_result(),
                         summary={"hashtags": 4, "edges": 2}, params={}, when=START + timedelta(days=12))
    records = [
        {"id": p.pk, "account": accounts[s["account"]].pk, "score": s["score"], **{k: s[k] for k in
                                                                                  ("time", "text", "labels", "tags")}}
        for p, s in zip(posts, specs)
    ]
    return {"inv": inv, "col": col, "accounts": accounts, "entities": entities, "posts": records, "model": model,
            "score": score, "coordination": coordination, "hashtags": hashtags}
