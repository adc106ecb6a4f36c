"""Alice's case holds a collection with two accounts and a post, and a coordination analysis with
community 3 and an edge between the accounts; Mallory's own case holds an account of hers."""
from __future__ import annotations

import pytest

from apps.analyses.models import Analysis
from apps.collections.models import Account, Collection, Entity, Post
from apps.investigations.models import Investigation
from apps.jobs.models import Job
from apps.notes.models import DisarmTactic, DisarmTechnique


def _analysis(investigation, collection, accounts):
    job = Job.objects.create(investigation=investigation, kind="coordination", status="done", params={})
    result = {
        "nodes": [{"id": a.pk, "community": 3} for a in accounts],
        "communities": [{"community": 3, "size": 2, "accounts": [{"id": a.pk, "handle": a.handle} for a in accounts]}],
        "edges": [{"source": accounts[0].pk, "target": accounts[1].pk, "weight": 2.0}],
    }
    return Analysis.objects.create(investigation=investigation, job=job, kind="coordination", collection=collection,
                                   result=result, summary={})


@pytest.fixture
def case(investigation, users):
    collection = Collection.objects.create(investigation=investigation, name="takedown")
    troll = Account.objects.create(collection=collection, platform_id="1", handle="troll")
    amplifier = Account.objects.create(collection=collection, platform_id="2", handle="amplifier")
    post = Post.objects.create(collection=collection, platform_id="p1", account=troll, text="hello")
    entity = Entity.objects.create(collection=collection, kind="hashtag", value="#ghost")
    theirs = Investigation.objects.get(name="Mallory's own")
    their_collection = Collection.objects.create(investigation=theirs, name="hers")
    return {
        "inv": investigation,
        "collection": collection,
        "troll": troll,
        "amplifier": amplifier,
        "post": post,
        "entity": entity,
        "analysis": _analysis(investigation, collection, [troll, amplifier]),
        "theirs": theirs,
        "their_account": Account.objects.create(collection=their_collection, platform_id="9", handle="hers"),
    }


@pytest.fixture
def t0049():
    tactic = DisarmTactic.objects.create(external_id="TA17", name="Maximise Exposure", shortname="maximise-exposure")
    return DisarmTechnique.objects.create(external_id="T0049", name="Flood Information Space", tactic=tactic)
