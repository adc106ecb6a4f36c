"""Account queues on Alice's case: the accounts ordered by the uncertainty of their mean post score (or a hybrid
analysis's account probability), one account at a time with its context; labels land on the account with who and
when, audited; undo puts them back; Carol (viewer) cannot label, Mallory (no member) gets 404; κ covers accounts;
no retraining."""
from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from sklearn.metrics import cohen_kappa_score

from apps.audit.models import AuditEntry
from apps.collections.models import Account
from apps.triage.models import TriageAccountItem, TriageDecision
from apps.triage.selectors import agreement, item_next, queue_items
from apps.triage.services import decision_record, decision_undo, queue_create, retrain_start
from tests.triage.conftest import SCORES, _analysis

pytestmark = pytest.mark.django_db

# Mean post scores: troll (p1, p2, p3) 0.7167, amplifier (p4, p5) 0.15, resident (p6) 0.625.
MEANS = {"troll": (SCORES["p1"] + SCORES["p2"] + SCORES["p3"]) / 3, "amplifier": (SCORES["p4"] + SCORES["p5"]) / 2,
         "resident": SCORES["p6"]}


@pytest.fixture
def account_queue(case, users):
    def make(order="uncertainty", analysis=None, values="operation,organic,unsure"):
        return queue_create(investigation=case["inv"], user=users["alice"], analysis=analysis or case["scoring"],
                            unit="account", order=order, label_key="account_label", label_values=values)

    return make


def handles(case, account_ids) -> list[str]:
    by_pk = {a.pk: name for name, a in case["accounts"].items()}
    return [by_pk[pk] for pk in account_ids]


def walk(queue, user) -> list[int]:
    seen = []
    while (row := item_next(queue=queue, user=user)) is not None:
        seen.append(row.account_id)
        decision_record(queue=queue, user=user, account_id=row.account_id, skip=True)
    return seen


def test_it_orders_accounts_by_the_uncertainty_of_their_mean_score(case, users, account_queue):
    queue = account_queue()
    expected = sorted(MEANS, key=lambda h: abs(MEANS[h] - 0.5))
    assert expected == ["resident", "troll", "amplifier"]
    assert queue.total == 3
    stored = dict(TriageAccountItem.objects.filter(queue=queue).values_list("account_id", "score"))
    assert {h: stored[a.pk] for h, a in case["accounts"].items()} == pytest.approx(MEANS)
    assert handles(case, queue_items(queue).values_list("account_id", flat=True)) == expected
    assert handles(case, walk(queue, users["bob"])) == expected


def test_it_orders_by_score_and_by_a_hybrid_account_probability(case, users, account_queue):
    assert handles(case, walk(account_queue("score"), users["bob"])) == ["troll", "resident", "amplifier"]
    accounts = case["accounts"]
    hybrid = _analysis(case["inv"], case["collection"], "hybrid", result={"table": {
        "account": [accounts["troll"].pk, accounts["amplifier"].pk, accounts["resident"].pk],
        "probability": [0.95, 0.45, 0.7],
    }})
    queue = account_queue(analysis=hybrid)
    assert handles(case, walk(queue, users["bob"])) == ["amplifier", "resident", "troll"]


def test_a_post_queue_refuses_a_hybrid_analysis(case, users):
    hybrid = _analysis(case["inv"], case["collection"], "hybrid", result={"table": {"account": [], "probability": []}})
    with pytest.raises(ValidationError):
        queue_create(investigation=case["inv"], user=users["alice"], analysis=hybrid, order="uncertainty",
                     label_key="k", label_values="a,b")


def test_labels_land_on_the_account_audited_and_undo_restores_them(case, users, account_queue):
    queue = account_queue()
    resident = case["accounts"]["resident"]
    resident.labels = {"account_label": "organic"}
    resident.save(update_fields=["labels"])
    decision = decision_record(queue=queue, user=users["bob"], account_id=resident.pk, value="operation")
    assert decision.account_id == resident.pk and decision.post_id is None and decision.user == users["bob"]
    assert decision.decided_at is not None
    assert Account.objects.get(pk=resident.pk).labels == {"account_label": "operation"}
    entry = AuditEntry.objects.filter(action="label.set").get()
    assert entry.actor == users["bob"] and entry.detail["account"] == resident.pk
    assert entry.detail["previous"] == "organic" and "account @resident" in entry.summary
    assert item_next(queue=queue, user=users["bob"]).account_id == case["accounts"]["troll"].pk

    undone = decision_undo(queue=queue, user=users["bob"])
    assert undone.account_id == resident.pk
    assert Account.objects.get(pk=resident.pk).labels == {"account_label": "organic"}
    assert AuditEntry.objects.filter(action="label.undo").count() == 1
    assert item_next(queue=queue, user=users["bob"]).account_id == resident.pk
    assert not TriageDecision.objects.exists()


def test_it_refuses_a_post_or_a_foreign_account_in_an_account_queue(case, users, account_queue):
    queue = account_queue()
    with pytest.raises(ValidationError):
        decision_record(queue=queue, user=users["bob"], post_id=case["posts"]["p1"].pk, value="operation")
    stranger = case["foreign_post"].account
    with pytest.raises(ValidationError):
        decision_record(queue=queue, user=users["bob"], account_id=stranger.pk, value="operation")
    assert Account.objects.get(pk=stranger.pk).labels == {}


def test_the_api_labels_an_account_and_answers_the_next_with_its_context(case, users, account_queue, api_for):
    accounts = case["accounts"]
    _analysis(case["inv"], case["collection"], "coordination", result={
        "nodes": [{"id": accounts["troll"].pk, "handle": "troll", "community": 0},
                  {"id": accounts["amplifier"].pk, "handle": "amplifier", "community": 0}],
        "edges": [{"source": accounts["troll"].pk, "target": accounts["amplifier"].pk, "weight": 2.0}],
    })
    queue = account_queue()
    api = api_for("bob")
    first = api.get(reverse("api-triage-next", args=[queue.pk])).json()
    assert first["item"]["unit"] == "account" and first["item"]["post"] is None
    assert first["item"]["account"]["id"] == accounts["resident"].pk and first["item"]["account"]["posts"] == 1
    answer = api.post(reverse("api-triage-decisions", args=[queue.pk]),
                      {"account": accounts["resident"].pk, "value": "organic"}, format="json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["decision"]["account"] == accounts["resident"].pk
    item = answer.json()["item"]["account"]
    assert item["handle"] == "@troll" and item["posts"] == 3 and item["label"] is None
    assert [p["id"] for p in item["top_posts"]] == [case["posts"][p].pk for p in ("p1", "p2", "p3")]
    assert [(c["community"], c["size"]) for c in item["communities"]] == [(0, 2)]
    assert answer.json()["progress"] == {"done": 1, "labelled": 1, "skipped": 0, "total": 3}
    assert Account.objects.get(pk=accounts["resident"].pk).labels["account_label"] == "organic"


def test_a_viewer_cannot_label_an_account_and_a_non_member_gets_404(case, account_queue, api_for, client_for):
    queue, troll = account_queue(), case["accounts"]["troll"]
    body = {"account": troll.pk, "value": "operation"}
    assert api_for("carol").get(reverse("api-triage-next", args=[queue.pk])).status_code == 200
    assert api_for("carol").post(reverse("api-triage-decisions", args=[queue.pk]), body, format="json"
                                 ).status_code == 403
    assert api_for("mallory").post(reverse("api-triage-decisions", args=[queue.pk]), body, format="json"
                                   ).status_code == 404
    assert api_for("mallory").get(reverse("api-triage-next", args=[queue.pk])).status_code == 404
    assert client_for("mallory").get(reverse("triage-queue", args=[queue.pk])).status_code == 404
    assert not TriageDecision.objects.exists() and Account.objects.get(pk=troll.pk).labels == {}


def test_an_account_queue_has_no_retrain_button_and_says_why(case, users, account_queue, client_for):
    queue = account_queue()
    page = client_for("bob").get(reverse("triage-queue", args=[queue.pk])).content.decode()
    assert 'data-unit="account"' in page and 'data-testid="triage-handle"' in page
    assert 'data-action="retrain"' not in page
    assert "Retraining is for post queues only" in page
    with pytest.raises(ValidationError):
        retrain_start(queue=queue, user=users["bob"], enqueue=False)


def test_kappa_covers_account_items(case, users, account_queue):
    queue = account_queue()
    given = {"bob": ["operation", "organic", "operation"], "alice": ["operation", "operation", "operation"]}
    order = ["resident", "troll", "amplifier"]
    for name, values in given.items():
        for handle, value in zip(order, values):
            decision_record(queue=queue, user=users[name], account_id=case["accounts"][handle].pk, value=value)
    [pair] = agreement(queue=queue)
    assert (pair["a"], pair["b"], pair["items"]) == ("alice", "bob", 3)
    assert pair["kappa"] == pytest.approx(cohen_kappa_score(given["alice"], given["bob"]))


def test_an_editor_makes_an_account_queue_from_the_page(case, users, client_for):
    form = {"unit": "account", "analysis": case["scoring"].pk, "order": "score", "label_key": "account_label",
            "label_values": "operation,organic", "seed": "", "labels_per_item": ""}
    response = client_for("bob").post(reverse("triage-create", args=[case["inv"].pk]), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    queue = case["inv"].triage_queues.get()
    assert queue.unit == "account" and queue.total == 3
