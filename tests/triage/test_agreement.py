"""Agreement between analysts: N labels per item, Fleiss' κ (checked on Fleiss's textbook table), the confusion
between two analysts, and the disagreements a member resolves. Who may do what on the new routes: Mallory (no
member) gets 404 everywhere, Carol (viewer) reads but cannot retrain or resolve."""
from __future__ import annotations

import pytest
from django.urls import reverse
from sklearn.metrics import confusion_matrix

from apps.audit.models import AuditEntry
from apps.collections.models import Post
from apps.investigations.services import member_set
from apps.triage.agreement import fleiss_kappa, fleiss_of_labels
from apps.triage.models import TriageResolution
from apps.triage.selectors import agreement, disagreements, fleiss, item_next
from apps.triage.services import decision_record, resolution_record

pytestmark = pytest.mark.django_db

# Fleiss (1971) as Wikipedia's "Fleiss' kappa" article works it: 10 items, 14 raters, 5 categories; P̄ = 0.378,
# P̄e = 0.213, κ = 0.210.
TEXTBOOK = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]


def test_fleiss_kappa_is_the_textbooks():
    observed, chance = 0.378, 0.213
    assert fleiss_kappa(TEXTBOOK) == pytest.approx(0.20993, abs=5e-5)
    assert fleiss_kappa(TEXTBOOK) == pytest.approx((observed - chance) / (1 - chance), abs=2e-3)


def test_fleiss_kappa_is_one_for_full_agreement_and_refuses_uneven_rows():
    assert fleiss_kappa([[3, 0], [0, 3], [3, 0]]) == pytest.approx(1.0)
    assert fleiss_kappa([[3, 0], [3, 0]]) is None  # one label throughout: no chance agreement to correct
    with pytest.raises(ValueError):
        fleiss_kappa([[3, 0], [1, 1]])


def test_fleiss_of_labels_counts_each_item_labelled_by_that_many():
    labels = {1: {"a": "x", "b": "x", "c": "y"}, 2: {"a": "y", "b": "y", "c": "y"}, 3: {"a": "x", "b": "y"}}
    found = fleiss_of_labels(labels, values=["x", "y"], raters=3)
    assert found == {"raters": 3, "items": 2, "kappa": pytest.approx(fleiss_kappa([[2, 1], [0, 3]]))}


@pytest.fixture
def dave(investigation, django_user_model):
    user = django_user_model.objects.create_user("dave", password="dave-pass-123")
    member_set(investigation=investigation, username="dave", role="editor")
    return user


def test_with_n_labels_per_item_an_item_leaves_the_others_queues_once_n_members_labelled_it(case, users, dave,
                                                                                          make_queue):
    queue = make_queue("uncertainty")
    queue.labels_per_item = 2
    queue.save()
    p3 = case["posts"]["p3"].pk
    decision_record(queue=queue, user=users["bob"], post_id=p3, value="operation")
    assert item_next(queue=queue, user=users["alice"]).post_id == p3  # one label so far: Alice still gets it
    decision_record(queue=queue, user=dave, post_id=p3, skip=True)  # a skip is no label
    assert item_next(queue=queue, user=users["alice"]).post_id == p3
    decision_record(queue=queue, user=users["alice"], post_id=p3, value="organic")
    assert item_next(queue=queue, user=dave).post_id != p3  # two labels: it has left Dave's queue
    queue.labels_per_item = 0  # every member labels every item
    queue.save()
    assert item_next(queue=queue, user=users["carol"]).post_id == p3


def test_three_analysts_give_fleiss_and_each_pair_its_confusion(case, users, dave, make_queue, client_for):
    queue = make_queue("score")
    given = {  # post → (alice, bob, dave)
        "p1": ("operation", "operation", "operation"), "p2": ("operation", "organic", "operation"),
        "p3": ("organic", "organic", "organic"), "p4": ("unsure", "organic", "organic"),
        "p5": ("organic", "organic", "operation"),
    }
    for name, labels in given.items():
        for user, value in zip((users["alice"], users["bob"], dave), labels):
            decision_record(queue=queue, user=user, post_id=case["posts"][name].pk, value=value)
    values = queue.label_values
    table = [[list(labels).count(v) for v in values] for labels in given.values()]
    assert fleiss(queue=queue) == {"raters": 3, "items": 5, "kappa": pytest.approx(fleiss_kappa(table))}

    pair = next(p for p in agreement(queue=queue) if (p["a"], p["b"]) == ("alice", "bob"))
    alice, bob = [g[0] for g in given.values()], [g[1] for g in given.values()]
    assert pair["classes"] == values
    assert pair["confusion"] == confusion_matrix(alice, bob, labels=values).tolist()
    page = client_for("carol").get(reverse("triage-queue", args=[queue.pk])).content.decode()
    assert f'<strong data-testid="fleiss-kappa">{fleiss_kappa(table):.3f}</strong>' in page
    assert page.count('data-testid="confusion"') == 3


def test_a_member_resolves_a_disagreement_on_the_page(case, users, make_queue, client_for):
    queue = make_queue("score")
    p1, p2 = case["posts"]["p1"], case["posts"]["p2"]
    for post, bob, alice in ((p1, "operation", "organic"), (p2, "organic", "organic")):
        decision_record(queue=queue, user=users["bob"], post_id=post.pk, value=bob)
        decision_record(queue=queue, user=users["alice"], post_id=post.pk, value=alice)
    [row] = disagreements(queue=queue)
    assert row["post_id"] == p1.pk and row["labels"] == {"alice": "organic", "bob": "operation"}

    client = client_for("bob")
    url = reverse("triage-disagreements", args=[queue.pk])
    page = client.get(url).content.decode()
    assert '<span data-testid="disagreements-unresolved">1</span>' in page and "text of p1" in page
    assert client.post(url, {"post": p2.pk, "value": "operation"}).status_code == 400  # no disagreement there
    assert client.post(url, {"post": p1.pk, "value": "troll"}).status_code == 400
    response = client.post(url, {"post": p1.pk, "value": "operation"})
    assert response.status_code == 302
    resolution = TriageResolution.objects.get()
    assert (resolution.post_id, resolution.value, resolution.user) == (p1.pk, "operation", users["bob"])
    assert Post.objects.get(pk=p1.pk).labels["analyst_label"] == "operation"
    entry = AuditEntry.objects.get(action="label.resolve")
    assert entry.detail["labels"] == {"alice": "organic", "bob": "operation"} and entry.detail["value"] == "operation"
    assert '<span data-testid="disagreements-unresolved">0</span>' in client.get(url).content.decode()
    resolution_record(queue=queue, user=users["alice"], post_id=p1.pk, value="unsure")  # resolving again replaces
    assert list(TriageResolution.objects.values_list("value", "user__username")) == [("unsure", "alice")]


def test_the_api_lists_and_resolves_disagreements(case, users, make_queue, api_for):
    queue = make_queue("score")
    p1 = case["posts"]["p1"]
    decision_record(queue=queue, user=users["bob"], post_id=p1.pk, value="operation")
    decision_record(queue=queue, user=users["alice"], post_id=p1.pk, value="organic")
    api = api_for("bob")
    body = api.get(reverse("api-triage-disagreements", args=[queue.pk])).json()
    assert body == {"unresolved": 1, "disagreements": [
        {"post": p1.pk, "labels": {"alice": "organic", "bob": "operation"}, "resolution": None}]}
    response = api.post(reverse("api-triage-resolutions", args=[queue.pk]), {"post": p1.pk, "value": "organic"},
                        format="json")
    assert response.status_code == 201 and response.json()["value"] == "organic"
    body = api.get(reverse("api-triage-disagreements", args=[queue.pk])).json()
    assert body["unresolved"] == 0 and body["disagreements"][0]["resolution"]["user"] == "bob"


def test_a_viewer_cannot_label_retrain_or_resolve(case, users, make_queue, client_for, api_for):
    queue = make_queue("score")
    p1 = case["posts"]["p1"]
    decision_record(queue=queue, user=users["bob"], post_id=p1.pk, value="operation")
    decision_record(queue=queue, user=users["alice"], post_id=p1.pk, value="organic")
    api = api_for("carol")
    assert api.post(reverse("api-triage-decisions", args=[queue.pk]), {"post": p1.pk, "value": "operation"},
                    format="json").status_code == 403
    assert api.post(reverse("api-triage-retrain", args=[queue.pk]), {}, format="json").status_code == 403
    assert api.post(reverse("api-triage-resolutions", args=[queue.pk]), {"post": p1.pk, "value": "organic"},
                    format="json").status_code == 403
    assert api.get(reverse("api-triage-rounds", args=[queue.pk])).status_code == 200
    assert api.get(reverse("api-triage-disagreements", args=[queue.pk])).status_code == 200
    client = client_for("carol")
    url = reverse("triage-disagreements", args=[queue.pk])
    page = client.get(url).content.decode()
    assert "resolving them needs the editor role" in page and 'data-testid="resolve-organic"' not in page
    assert client.post(url, {"post": p1.pk, "value": "organic"}).status_code == 403
    queue_page = client.get(reverse("triage-queue", args=[queue.pk])).content.decode()
    assert 'data-testid="triage-retrain"' not in queue_page
    assert not TriageResolution.objects.exists() and queue.rounds.count() == 1


def test_a_non_member_gets_404_on_every_new_route(case, make_queue, client_for, api_for):
    queue = make_queue()
    api, client = api_for("mallory"), client_for("mallory")
    post = {"post": case["posts"]["p3"].pk, "value": "operation"}
    for name in ("api-triage-rounds", "api-triage-disagreements"):
        assert api.get(reverse(name, args=[queue.pk])).status_code == 404, name
    assert api.post(reverse("api-triage-retrain", args=[queue.pk]), {}, format="json").status_code == 404
    assert api.post(reverse("api-triage-resolutions", args=[queue.pk]), post, format="json").status_code == 404
    assert client.get(reverse("triage-disagreements", args=[queue.pk])).status_code == 404
    assert client.post(reverse("triage-disagreements", args=[queue.pk]), post).status_code == 404
    assert api.get(reverse("api-triage-rounds", args=[queue.pk + 1000])).status_code == 404
    assert queue.rounds.count() == 1 and not TriageResolution.objects.exists()
