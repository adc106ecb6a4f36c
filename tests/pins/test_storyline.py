"""The case storyline: pins and notes in the editors' order, set through the API or moved one step at a time
on the page, each change audited; ids of another case are refused by index; deletes leave it consistent."""
from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from apps.audit.models import AuditEntry
from apps.notes.services import note_delete
from apps.pins.models import StoryItem
from apps.pins.services import pin_create, storyline_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def pins(case, users):
    return [pin_create(investigation=case["inv"], user=users["bob"], caption=f"view {i}", state=f"step={i}",
                       add_to_storyline=False) for i in (1, 2)]


def _order(api, inv) -> list[tuple[str, int]]:
    return [(i["type"], i["id"]) for i in api.get(reverse("api-storyline", args=[inv.pk])).json()["items"]]


def test_an_editor_sets_the_storyline_of_pins_and_notes(case, pins, api_for):
    inv, note = case["inv"], case["note"]
    items = [{"note": note.pk}, {"pin": pins[1].pk, "text": "Then the network lit up:"}, {"pin": str(pins[0].pk)}]
    answer = api_for("bob").put(reverse("api-storyline", args=[inv.pk]), {"items": items}, format="json")
    assert answer.status_code == 200
    got = api_for("carol").get(reverse("api-storyline", args=[inv.pk])).json()["items"]
    assert got == answer.json()["items"]
    assert [(i["type"], i["id"], i["text"]) for i in got] == [
        ("note", note.pk, ""), ("pin", pins[1].pk, "Then the network lit up:"), ("pin", pins[0].pk, "")]
    assert got[0]["html"] == "<p>The <strong>planted</strong> community.</p>\n"
    assert got[0]["url"] == f"{reverse('note-list', args=[inv.pk])}#note-{note.pk}"
    assert (got[1]["caption"], got[1]["url"]) == ("view 2", f"/investigations/{inv.pk}/workspace/?step=2")
    entry = AuditEntry.objects.get(investigation=inv, action="storyline.edit")
    assert entry.actor_name == "bob"
    assert entry.detail == {"before": [], "items": [{"note": note.pk}, {"pin": pins[1].pk, "text": items[1]["text"]},
                                                    {"pin": pins[0].pk}]}
    # an empty list clears it
    assert api_for("bob").put(reverse("api-storyline", args=[inv.pk]), {"items": []}, format="json").json() == \
        {"items": []}


@pytest.mark.parametrize("bad, why", [
    ("their_pin", "Item 1: this investigation has no pin"),
    ("their_note", "Item 1: this investigation has no note"),
    ("twice", "Item 1: note"),
    ("both", "Item 1: give exactly one"),
    ("neither", "Item 1: give exactly one"),
    ("not an id", "Item 1: pin='1.5' is not an id"),
    ("long text", "Item 1: The connecting text holds at most 2,000"),
])
def test_it_refuses_a_storyline_item_naming_its_index_and_changes_nothing(case, pins, users, api_for, bad, why):
    inv = case["inv"]
    storyline_set(investigation=inv, user=users["bob"], items=[{"pin": pins[0].pk}])
    second = {
        "their_pin": {"pin": case["their_pin"].pk}, "their_note": {"note": case["their_note"].pk},
        "twice": {"note": case["note"].pk}, "both": {"pin": pins[1].pk, "note": case["note"].pk},
        "neither": {"text": "x"},
        "not an id": {"pin": 1.5}, "long text": {"pin": pins[1].pk, "text": "x" * 2001},
    }[bad]
    answer = api_for("bob").put(reverse("api-storyline", args=[inv.pk]),
                                {"items": [{"note": case["note"].pk}, second]}, format="json")
    assert answer.status_code == 400 and answer.json()["items"][0].startswith(why)
    assert _order(api_for("bob"), inv) == [("pin", pins[0].pk)]
    assert AuditEntry.objects.filter(investigation=inv, action="storyline.edit").count() == 1


def test_the_page_moves_adds_and_removes_items_with_audit_entries(case, pins, users, client_for, api_for):
    inv, note = case["inv"], case["note"]
    storyline_set(investigation=inv, user=users["bob"], items=[{"pin": pins[0].pk}, {"pin": pins[1].pk}])
    bob, url = client_for("bob"), reverse("storyline", args=[inv.pk])
    page = bob.get(url).content.decode()
    assert page.count('data-testid="story-item"') == 2 and page.count('data-testid="story-up"') == 2
    assert f'value="note:{note.pk}"' in page and 'data-testid="story-add"' in page

    assert bob.post(url, {"action": "add", "target": f"note:{note.pk}"}).status_code == 302
    third = StoryItem.objects.get(note=note).pk
    assert bob.post(url, {"action": "up", "item": third}).status_code == 302
    assert _order(api_for("bob"), inv) == [("pin", pins[0].pk), ("note", note.pk), ("pin", pins[1].pk)]
    first = StoryItem.objects.get(pin=pins[0]).pk
    assert bob.post(url, {"action": "down", "item": first}).status_code == 302
    assert bob.post(url, {"action": "text", "item": first, "text": "Which led to:"}).status_code == 302
    assert bob.post(url, {"action": "remove", "item": StoryItem.objects.get(pin=pins[1]).pk}).status_code == 302
    assert _order(api_for("bob"), inv) == [("note", note.pk), ("pin", pins[0].pk)]
    assert StoryItem.objects.get(pin=pins[0]).text == "Which led to:"
    assert StoryItem.objects.get(pin=pins[0]).pk == first  # items keep their ids: an open page's buttons still work

    refused = bob.post(url, {"action": "up", "item": StoryItem.objects.get(note=note).pk})  # already first
    assert refused.status_code == 400 and "already first" in refused.content.decode()
    assert bob.post(url, {"action": "add", "target": f"note:{case['their_note'].pk}"}).status_code == 400
    renamed = bob.post(reverse("pin-edit", args=[pins[0].pk]), {"caption": "the first view"})
    assert renamed.status_code == 302 and api_for("carol").get(
        reverse("api-pin-detail", args=[pins[0].pk])).json()["caption"] == "the first view"

    summaries = list(AuditEntry.objects.filter(investigation=inv, action="storyline.edit").order_by("id")
                     .values_list("summary", flat=True))
    assert summaries == [
        "Set the storyline: 2 items.", f"Added note #{note.pk} to the storyline.",
        f"Moved note #{note.pk} up in the storyline (to step 2).",
        f"Moved pin #{pins[0].pk} down in the storyline (to step 2).",
        "Changed the connecting text of step 2 of the storyline.",
        f"Removed pin #{pins[1].pk} from the storyline.",
    ]
    assert AuditEntry.objects.filter(investigation=inv, action="pin.edit").count() == 1
    page = bob.get(url).content.decode()
    assert page.index("The <strong>planted</strong> community.") < page.index("Which led to:") < page.index(
        "the first view")


@pytest.mark.services  # also on PostgreSQL: cascades, then renumbering under the lock
def test_a_deleted_note_or_pin_leaves_the_storyline_consistent(case, pins, users, api_for, client_for):
    inv, note = case["inv"], case["note"]
    storyline_set(investigation=inv, user=users["bob"],
                  items=[{"pin": pins[0].pk}, {"note": note.pk, "text": "As noted:"}, {"pin": pins[1].pk}])
    note_delete(note=note, user=users["bob"])
    assert _order(api_for("carol"), inv) == [("pin", pins[0].pk), ("pin", pins[1].pk)]
    page = client_for("bob").get(reverse("storyline", args=[inv.pk]))
    assert page.status_code == 200 and page.content.decode().count('data-testid="story-item"') == 2
    # the remaining items still move: the pin that came third goes up to first
    moved = client_for("bob").post(reverse("storyline", args=[inv.pk]),
                                   {"action": "up", "item": StoryItem.objects.get(pin=pins[1]).pk})
    assert moved.status_code == 302
    assert _order(api_for("carol"), inv) == [("pin", pins[1].pk), ("pin", pins[0].pk)]
    positions = StoryItem.objects.filter(investigation=inv).order_by("position").values_list("position", flat=True)
    assert list(positions) == [0, 1]  # renumbered by the move
    assert api_for("bob").delete(reverse("api-pin-detail", args=[pins[1].pk])).status_code == 204
    assert _order(api_for("carol"), inv) == [("pin", pins[0].pk)]


@pytest.mark.services  # also on PostgreSQL's CHECK and UNIQUE
def test_the_database_holds_exactly_one_of_pin_or_note_and_each_once(case, pins):
    inv = case["inv"]
    for fields in ({"pin": pins[0], "note": case["note"]}, {}):
        with pytest.raises(IntegrityError), transaction.atomic():
            StoryItem.objects.create(investigation=inv, position=0, **fields)
    StoryItem.objects.create(investigation=inv, position=0, pin=pins[0])
    with pytest.raises(IntegrityError), transaction.atomic():
        StoryItem.objects.create(investigation=inv, position=1, pin=pins[0])
