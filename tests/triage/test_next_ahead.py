"""The next items at scale: walks that resume where the analyst's last one stopped still give exactly the queue's
order (checked against the whole order, sorted, through decisions, undos and other analysts' labels), the API
brings the item after the next one ahead, a prefetched item another analyst took meanwhile is replaced, each
network is read once for every item, and on PostgreSQL the planner walks the indexes."""
from __future__ import annotations

import random
from collections import defaultdict

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.analyses.models import Analysis, PostScore
from apps.jobs.models import Job
from apps.triage.models import TriageDecision
from apps.triage.selectors import item_describe, items_next, queue_items
from apps.triage.services import decision_record, decision_undo, queue_create

pytestmark = [pytest.mark.django_db, pytest.mark.services]


def open_items(queue, user, count: int) -> list[int]:
    """The definition: the queue's whole order, less what ``user`` decided and (with N labels per item) what N
    members labelled."""
    mine = set(TriageDecision.objects.filter(queue=queue, user=user).values_list("post_id", flat=True))
    labellers = defaultdict(set)
    for post_id, who in TriageDecision.objects.filter(queue=queue).exclude(value="").values_list("post_id", "user"):
        labellers[post_id].add(who)
    full = {p for p, who in labellers.items() if queue.labels_per_item and len(who) >= queue.labels_per_item}
    order = queue_items(queue).values_list("post_id", flat=True)
    return [p for p in order if p not in mine and p not in full][:count]


@pytest.mark.parametrize("order", ["uncertainty", "score", "random"])
@pytest.mark.parametrize("labels_per_item", [0, 2])
def test_resumed_walks_give_the_queues_order_through_decisions_undos_and_other_analysts(
        case, users, make_queue, monkeypatch, order, labels_per_item):
    """Alice, Bob and Carol's stand-in (Alice's second tab is the same user) decide the next item, decide some other
    item, or undo, in a seeded mix; after each step every analyst's next two are the definition's."""
    monkeypatch.setattr("apps.triage.selectors.RANDOM_PAGE", 2)  # the random order's pages, two items each
    queue = make_queue(order, seed=7)
    queue.labels_per_item = labels_per_item
    queue.save()
    rng, analysts = random.Random(f"{order}{labels_per_item}"), [users["alice"], users["bob"]]
    post_ids = [p.pk for p in case["posts"].values()]
    for _ in range(80):
        user, action = rng.choice(analysts), rng.choice(["next", "next", "next", "other", "undo"])
        found = items_next(queue=queue, user=user, count=1)
        if action == "next" and found:
            decision_record(queue=queue, user=user, post_id=found[0].post_id, skip=rng.random() < 0.3,
                            value=rng.choice(queue.label_values))
        elif action == "other":
            decision_record(queue=queue, user=user, post_id=rng.choice(post_ids), value="unsure")
        elif action == "undo":
            decision_undo(queue=queue, user=user)
        for analyst in analysts:
            got = [row.post_id for row in items_next(queue=queue, user=analyst, count=2)]
            assert got == open_items(queue, analyst, 2), (action, analyst.username)


def test_the_api_brings_the_item_after_the_next_when_asked_ahead(case, api_for, make_queue):
    queue = make_queue("uncertainty")  # p3, p6, p2, p4, p1, p5
    api, posts = api_for("bob"), case["posts"]
    body = api.get(reverse("api-triage-next", args=[queue.pk]), {"ahead": "1"}).json()
    assert (body["item"]["post"]["id"], body["upcoming"]["post"]["id"]) == (posts["p3"].pk, posts["p6"].pk)
    assert body["upcoming"]["account"]["handle"] == "@resident" and body["upcoming"]["score"] == 0.625
    assert "upcoming" not in api.get(reverse("api-triage-next", args=[queue.pk])).json()

    decide = reverse("api-triage-decisions", args=[queue.pk])
    body = api.post(decide, {"post": posts["p3"].pk, "value": "operation", "ahead": True}, format="json").json()
    assert (body["item"]["post"]["id"], body["upcoming"]["post"]["id"]) == (posts["p6"].pk, posts["p2"].pk)
    assert body["progress"]["done"] == 1
    body = api.post(reverse("api-triage-undo", args=[queue.pk]), {"ahead": True}, format="json").json()
    assert body["undone"]["post"] == posts["p3"].pk
    assert (body["item"]["post"]["id"], body["upcoming"]["post"]["id"]) == (posts["p3"].pk, posts["p6"].pk)
    for name in ("p3", "p6", "p2", "p4", "p1"):
        body = api.post(decide, {"post": posts[name].pk, "skip": True, "ahead": True}, format="json").json()
    assert body["item"]["post"]["id"] == posts["p5"].pk and body["upcoming"] is None


def test_a_prefetched_item_another_analyst_labelled_meanwhile_gives_way_to_the_next(case, users, api_for,
                                                                                     make_queue):
    """One label per item: Bob's page holds p6 ahead while he reads p3; Alice labels p6. Bob's decision on p3
    answers with p2, not p6, which the page then draws instead."""
    queue = make_queue("uncertainty")
    queue.labels_per_item = 1
    queue.save()
    api, posts = api_for("bob"), case["posts"]
    body = api.get(reverse("api-triage-next", args=[queue.pk]), {"ahead": "1"}).json()
    assert body["upcoming"]["post"]["id"] == posts["p6"].pk
    decision_record(queue=queue, user=users["alice"], post_id=posts["p6"].pk, value="organic")
    body = api.post(reverse("api-triage-decisions", args=[queue.pk]),
                    {"post": posts["p3"].pk, "value": "operation", "ahead": True}, format="json").json()
    assert (body["item"]["post"]["id"], body["upcoming"]["post"]["id"]) == (posts["p2"].pk, posts["p4"].pk)
    assert body["progress"]["done"] == 1  # p6 is not Bob's decision


@pytest.mark.parametrize("order", ["uncertainty", "score", "random"])
def test_an_undo_brings_back_an_item_from_before_where_the_walk_resumes(case, users, make_queue, monkeypatch,
                                                                        order):
    """Bob skips the first two items (a whole page of the random order, at two a page); his walk then resumes
    after them, and his undo of the second must bring it back."""
    monkeypatch.setattr("apps.triage.selectors.RANDOM_PAGE", 2)
    queue, bob = make_queue(order, seed=7), users["bob"]
    order_ids = list(queue_items(queue).values_list("post_id", flat=True))
    for expected in order_ids[:2]:
        assert items_next(queue=queue, user=bob)[0].post_id == expected
        decision_record(queue=queue, user=bob, post_id=expected, skip=True)
    assert [row.post_id for row in items_next(queue=queue, user=bob, count=2)] == order_ids[2:4]
    decision_undo(queue=queue, user=bob)
    assert [row.post_id for row in items_next(queue=queue, user=bob, count=2)] == order_ids[1:3]


def test_an_undo_by_another_analyst_puts_the_item_back_in_the_walk(case, users, make_queue):
    """Bob's walk has moved past p3, which Alice labelled (one label per item); her undo brings it back to him."""
    queue = make_queue("uncertainty")
    queue.labels_per_item = 1
    queue.save()
    p3 = case["posts"]["p3"].pk
    decision_record(queue=queue, user=users["alice"], post_id=p3, value="organic")
    assert items_next(queue=queue, user=users["bob"])[0].post_id == case["posts"]["p6"].pk
    decision_undo(queue=queue, user=users["alice"])
    assert items_next(queue=queue, user=users["bob"])[0].post_id == p3


def test_a_network_is_read_once_for_every_item(case, make_queue):
    """The first item's neighbours read the stored network; later items' come from its cached nodes."""
    queue = make_queue("score")
    rows = {row.post_id: row for row in queue_items(queue)}
    posts, accounts = case["posts"], case["accounts"]
    reads_result = lambda ctx: [q for q in ctx.captured_queries if '"analyses_analysis"."result"' in q["sql"]]  # noqa: E731
    with CaptureQueriesContext(connection) as first:
        troll = item_describe(queue=queue, row=rows[posts["p1"].pk])
    with CaptureQueriesContext(connection) as later:
        amplifier = item_describe(queue=queue, row=rows[posts["p4"].pk])
        resident = item_describe(queue=queue, row=rows[posts["p6"].pk])
    assert len(reads_result(first)) == 1 and not reads_result(later)
    assert [n["id"] for n in troll["networks"][0]["neighbours"]] == [accounts["amplifier"].pk]
    assert [n["id"] for n in amplifier["networks"][0]["neighbours"]] == [accounts["troll"].pk]
    assert resident["networks"] == []


# PostgreSQL's plans at a size where a sort of every item would show ------------------------------------------

@pytest.fixture
def large_queue(case, users):
    """20,000 scores (plain ids: PostScore has no database constraint on its post) and Bob's 500 earlier skips of
    the most uncertain, analysed as autovacuum would."""
    if connection.vendor != "postgresql":
        pytest.skip("the plans are PostgreSQL's")
    job = Job.objects.create(investigation=case["inv"], kind="analysis:score", status="succeeded", params={})
    scoring = Analysis.objects.create(investigation=case["inv"], job=job, kind="score", collection=case["collection"],
                                      params={"model": case["model"].pk})
    rng = random.Random(0)
    PostScore.objects.bulk_create(
        (PostScore(analysis=scoring, post_id=10_000 + i, account_id=1, score=rng.random()) for i in range(20_000)),
        batch_size=5_000)
    queue = queue_create(investigation=case["inv"], user=users["alice"], analysis=scoring, order="uncertainty",
                         label_key="analyst_label", label_values="operation,organic")
    nearest = sorted(PostScore.objects.filter(analysis=scoring).values_list("score", "post_id"),
                     key=lambda row: (abs(row[0] - 0.5), row[1]))[:500]
    TriageDecision.objects.bulk_create(TriageDecision(queue=queue, post_id=p, user=users["bob"]) for _, p in nearest)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE analyses_postscore")
        cursor.execute("ANALYZE triage_triagedecision")
    return queue


def plan_of(sql: str, params, *, seqscan: bool = True) -> str:
    with connection.cursor() as cursor:
        if not seqscan:
            cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_next_items_walk_the_score_index_and_probe_the_decisions_on_postgresql(large_queue, users):
    """Both sides of the threshold in one statement, each a walk of the (analysis, score) index from where Bob's
    last walk stopped, with one index probe of his decisions per item stepped over: no sort of the queue."""
    queue, bob = large_queue, users["bob"]
    first = items_next(queue=queue, user=bob, count=2)
    assert [row.post_id for row in first] == open_items(queue, bob, 2)
    with CaptureQueriesContext(connection) as ctx:
        assert items_next(queue=queue, user=bob, count=2) == first
    [walk] = [q["sql"] for q in ctx.captured_queries if "analyses_postscore" in q["sql"]]
    plan = plan_of(walk, None)
    assert "UNION ALL" in walk and plan.count("postscore_analysis_score_idx") == 2, plan
    assert "Anti Join" in plan and "Materialize" not in plan and "->  Sort " not in plan, plan
    assert plan.count("(post_id = analyses_postscore") == 2, plan  # the decisions probed by post, per item


def test_the_random_order_reads_a_page_of_items_by_index_on_postgresql(large_queue, users):
    """A page's items by the (analysis, post) index, sorted: not every item. At 20,000 scores a sequential read of
    them all still costs about as much as 200 index probes (the planner takes either), so sequential scans are
    priced out here; on 300,000 it took the index by itself (1.4 ms)."""
    queue, bob = large_queue, users["bob"]
    queue.order = "random"
    queue.save()
    first = items_next(queue=queue, user=bob, count=2)
    assert [row.post_id for row in first] == open_items(queue, bob, 2)
    with CaptureQueriesContext(connection) as ctx:
        assert items_next(queue=queue, user=bob, count=2) == first
    [walk] = [q["sql"] for q in ctx.captured_queries if "analyses_postscore" in q["sql"]]
    plan = plan_of(walk, None, seqscan=False)
    assert "postscore_analysis_post_idx" in plan and "Seq Scan on analyses_postscore" not in plan, plan
