"""The queue's orders on known scores, decisions that write labels with one audit entry each, skips, undo,
and Cohen's κ between two analysts."""
from __future__ import annotations

import pytest
from django.urls import reverse
from sklearn.metrics import cohen_kappa_score

from apps.analyses.models import PostScore
from apps.audit.models import AuditEntry
from apps.collections.models import Post
from apps.triage.agreement import pairwise_kappa
from apps.triage.models import TriageDecision
from apps.triage.selectors import PRIME, agreement, item_next, queue_items, random_multiplier
from apps.triage.services import decision_record, decision_undo
from tests.triage.conftest import SCORE_ORDER, SCORES, UNCERTAINTY_ORDER

pytestmark = [pytest.mark.django_db, pytest.mark.services]


def platform_ids(case, post_ids) -> list[str]:
    by_pk = {p.pk: name for name, p in case["posts"].items()}
    return [by_pk[pk] for pk in post_ids]


def walk(queue, user) -> list[int]:
    """The posts ``next`` gives one after another while the analyst skips each."""
    seen = []
    while (row := item_next(queue=queue, user=user)) is not None:
        seen.append(row.post_id)
        decision_record(queue=queue, user=user, post_id=row.post_id, skip=True)
    return seen


def test_the_uncertainty_order_puts_scores_nearest_one_half_first(case, users, make_queue):
    queue = make_queue("uncertainty")
    assert queue.total == len(SCORES)
    assert platform_ids(case, queue_items(queue).values_list("post_id", flat=True)) == UNCERTAINTY_ORDER
    assert platform_ids(case, walk(queue, users["bob"])) == UNCERTAINTY_ORDER


def test_a_calibrated_detectors_uncertainty_centres_on_its_threshold(case, users, make_queue):
    case["scoring"].result = {"threshold": 0.9}  # chosen on validation for the model's goal
    case["scoring"].save(update_fields=["result"])
    queue = make_queue("uncertainty")
    by_pk = {p.pk: name for name, p in case["posts"].items()}
    expected = sorted(SCORES, key=lambda name: (abs(SCORES[name] - 0.9), case["posts"][name].pk))
    assert expected != UNCERTAINTY_ORDER  # the threshold moves the queue
    assert [by_pk[pk] for pk in queue_items(queue).values_list("post_id", flat=True)] == expected
    assert platform_ids(case, walk(queue, users["bob"])) == expected


def test_the_score_order_puts_the_highest_first(case, users, make_queue):
    queue = make_queue("score")
    assert platform_ids(case, queue_items(queue).values_list("post_id", flat=True)) == SCORE_ORDER
    assert platform_ids(case, walk(queue, users["bob"])) == SCORE_ORDER


def test_the_random_order_is_a_seeded_permutation(case, users, make_queue):
    first, again, other = make_queue("random", seed=7), make_queue("random", seed=7), make_queue("random", seed=8)
    ids = sorted(p.pk for p in case["posts"].values())
    expected = sorted(ids, key=lambda pk: ((pk * random_multiplier(7)) % PRIME, pk))
    assert list(queue_items(first).values_list("post_id", flat=True)) == expected
    assert walk(first, users["bob"]) == expected == walk(again, users["bob"])
    assert sorted(walk(other, users["bob"])) == ids and walk(other, users["alice"]) != expected


def test_next_is_per_analyst(case, users, make_queue):
    queue = make_queue("score")
    decision_record(queue=queue, user=users["bob"], post_id=case["posts"]["p1"].pk, value="operation")
    assert item_next(queue=queue, user=users["bob"]).post_id == case["posts"]["p2"].pk
    assert item_next(queue=queue, user=users["alice"]).post_id == case["posts"]["p1"].pk


def test_a_decision_writes_the_label_onto_the_post_with_one_audit_entry(case, users, api_for, make_queue):
    queue = make_queue("uncertainty")
    p3 = case["posts"]["p3"]
    response = api_for("bob").post(reverse("api-triage-decisions", args=[queue.pk]),
                                   {"post": p3.pk, "value": "operation"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["decision"]["value"] == "operation" and body["decision"]["user"] == "bob"
    assert body["item"]["post"]["id"] == case["posts"]["p6"].pk  # the next most uncertain
    assert body["progress"] == {"done": 1, "labelled": 1, "skipped": 0, "total": 6}
    p3.refresh_from_db()
    assert p3.labels == {"analyst_label": "operation", "lang": "en"}
    decision = TriageDecision.objects.get()
    assert (decision.user, decision.value, decision.previous) == (users["bob"], "operation", {"value": "organic"})
    assert decision.decided_at is not None
    entry = AuditEntry.objects.get(action="label.set")
    assert (entry.actor, entry.object_type, entry.object_id) == (users["bob"], "post", p3.pk)
    assert entry.detail == {"queue": queue.pk, "post": p3.pk, "key": "analyst_label", "value": "operation",
                            "previous": "organic"}


def test_a_skip_writes_no_label_and_moves_on(case, users, api_for, make_queue):
    queue = make_queue("uncertainty")
    p3 = case["posts"]["p3"]
    body = api_for("bob").post(reverse("api-triage-decisions", args=[queue.pk]), {"post": p3.pk, "skip": True},
                               format="json").json()
    assert body["decision"]["skipped"] is True and body["item"]["post"]["id"] == case["posts"]["p6"].pk
    assert body["progress"] == {"done": 1, "labelled": 0, "skipped": 1, "total": 6}
    p3.refresh_from_db()
    assert p3.labels["analyst_label"] == "organic"
    assert not AuditEntry.objects.filter(action="label.set").exists()
    assert AuditEntry.objects.filter(action="triage.skip", object_id=p3.pk).count() == 1


def test_undo_removes_the_analysts_latest_and_puts_the_label_back(case, users, api_for, make_queue):
    queue = make_queue("uncertainty")
    p3, p6 = case["posts"]["p3"], case["posts"]["p6"]
    api, url = api_for("bob"), reverse("api-triage-undo", args=[queue.pk])
    decision_record(queue=queue, user=users["bob"], post_id=p3.pk, value="operation")
    decision_record(queue=queue, user=users["bob"], post_id=p6.pk, value="unsure")
    decision_record(queue=queue, user=users["alice"], post_id=p6.pk, value="operation")  # not Bob's to undo

    body = api.post(url, format="json").json()
    assert (body["undone"]["post"], body["undone"]["value"]) == (p6.pk, "unsure")
    assert body["item"]["post"]["id"] == p6.pk and body["progress"]["done"] == 1
    p6.refresh_from_db()
    assert p6.labels["analyst_label"] == "operation"  # Alice's later label stands
    body = api.post(url, format="json").json()
    assert body["undone"]["post"] == p3.pk and body["item"]["post"]["id"] == p3.pk
    p3.refresh_from_db()
    assert p3.labels == {"analyst_label": "organic", "lang": "en"}  # as before the queue
    assert api.post(url, format="json").json()["undone"] is None
    assert list(TriageDecision.objects.values_list("user__username", "value")) == [("alice", "operation")]
    assert AuditEntry.objects.filter(action="label.undo", actor=users["bob"]).count() == 2


def test_undoing_an_earlier_analysts_label_hands_what_it_replaced_to_the_later_one(case, users, make_queue):
    queue = make_queue("uncertainty")
    p3 = case["posts"]["p3"]
    decision_record(queue=queue, user=users["bob"], post_id=p3.pk, value="operation")
    decision_record(queue=queue, user=users["alice"], post_id=p3.pk, value="unsure")
    decision_undo(queue=queue, user=users["bob"])
    assert Post.objects.get(pk=p3.pk).labels["analyst_label"] == "unsure"
    decision_undo(queue=queue, user=users["alice"])
    assert Post.objects.get(pk=p3.pk).labels["analyst_label"] == "organic"


def test_bad_decisions_are_400s_naming_the_field(case, api_for, make_queue):
    queue = make_queue()
    api, url = api_for("bob"), reverse("api-triage-decisions", args=[queue.pk])
    p3 = case["posts"]["p3"]
    for body, field in (
        ({"post": p3.pk, "value": "troll"}, "value"),
        ({"post": p3.pk}, "value"),
        ({"post": case["foreign_post"].pk, "value": "operation"}, "post"),
        ({"post": 2**63, "value": "operation"}, "post"),
        ({"value": "operation"}, "post"),
    ):
        response = api.post(url, body, format="json")
        assert response.status_code == 400 and field in response.json(), (body, response.content)
    assert not TriageDecision.objects.exists()


KAPPA_BOB = ["operation", "operation", "organic", "organic", "operation", "unsure"]
KAPPA_ALICE = ["operation", "organic", "organic", "organic", "operation", "unsure"]


def test_kappa_per_pair_is_scikit_learns_on_the_items_both_labelled(case, users, client_for, make_queue):
    queue = make_queue("score")
    items = [case["posts"][p] for p in SCORE_ORDER]
    for post, bob, alice in zip(items, KAPPA_BOB, KAPPA_ALICE):
        decision_record(queue=queue, user=users["alice"], post_id=post.pk, value=alice)
        decision_record(queue=queue, user=users["bob"], post_id=post.pk, value="unsure")
        decision_record(queue=queue, user=users["bob"], post_id=post.pk, value=bob)  # the latest counts
    decision_record(queue=queue, user=users["bob"], post_id=items[0].pk, skip=True)  # a skip is no label
    [pair] = agreement(queue=queue)
    expected = cohen_kappa_score(KAPPA_BOB[1:], KAPPA_ALICE[1:])
    # Five common items, four alike: p_o = 0.8; Bob's op/org/unsure 2/2/1, Alice's 1/3/1: p_e = (2 + 6 + 1) / 25
    assert expected == pytest.approx((0.8 - 0.36) / (1 - 0.36))
    assert (pair["a"], pair["b"], pair["items"]) == ("alice", "bob", 5)
    assert pair["kappa"] == pytest.approx(expected) and pair["agreement"] == pytest.approx(0.8)
    page = client_for("carol").get(reverse("triage-queue", args=[queue.pk])).content.decode()
    assert f'<td class="num" data-testid="kappa">{expected:.3f}</td>' in page


def test_kappa_is_none_where_undefined_and_pairs_without_common_items_are_left_out():
    rows = pairwise_kappa({"a": {1: "x", 2: "x"}, "b": {1: "x", 2: "x"}, "c": {3: "y"}}, values=["x", "y"])
    assert rows == [{"a": "a", "b": "b", "items": 2, "agreement": 1.0, "kappa": None, "classes": ["x", "y"],
                     "confusion": [[2, 0], [0, 0]]}]


def test_an_item_beyond_the_training_range_is_marked_unreliable(case, users, api_for, make_queue):
    """The score page's stored out-of-distribution mark follows the post into the queue; none where the scoring
    measured nothing."""
    queue = make_queue("score")
    first = queue_items(queue).values_list("post_id", flat=True)[0]
    api = api_for("bob")
    item = api.get(reverse("api-triage-next", args=[queue.pk])).json()["item"]
    assert item["post"]["id"] == first and item["unreliable"] is None  # the scoring measured no range
    PostScore.objects.filter(analysis=case["scoring"]).update(ood=1.0, unreliable=False)
    PostScore.objects.filter(analysis=case["scoring"], post_id=first).update(ood=9.0, unreliable=True)
    item = api.get(reverse("api-triage-next", args=[queue.pk])).json()["item"]
    assert item["unreliable"] is True
    api.post(reverse("api-triage-decisions", args=[queue.pk]), {"post": first, "skip": True}, format="json")
    assert api.get(reverse("api-triage-next", args=[queue.pk])).json()["item"]["unreliable"] is False
