"""Evidence pins: a saved view reopens exactly, its thumbnail is a members-only PNG, its state is a query
string and nothing else; viewers read, editors write, non-members see nothing; layouts are each member's own."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from django.urls import reverse

from apps.audit.models import AuditEntry
from apps.pins.models import Pin, StoryItem, WorkspaceLayout
from apps.pins.services import pin_create
from apps.pins.validation import STATE_MAX, THUMBNAIL_MAX
from tests.pins.conftest import data_url, png

pytestmark = pytest.mark.django_db

STATE = "panels=network%2Ctable%2Ctimeline&analysis=7&community=3&from=2016-10-01T00%3A00&to=2016-10-02&q=%23ghost+x"


def _workspace(inv) -> str:
    return f"/investigations/{inv.pk}/workspace/"


@pytest.mark.services  # also on PostgreSQL: the storyline's row lock
def test_an_editor_pins_a_view_and_the_pin_reopens_it_exactly(case, api_for, client_for):
    inv = case["inv"]
    api = api_for("bob")
    first = api.post(reverse("api-pin-list", args=[inv.pk]), {"caption": "Before", "state": "a=1"}, format="json")
    made = api.post(reverse("api-pin-list", args=[inv.pk]),
                    {"caption": " Planted community, day 1 ", "state": STATE, "thumbnail": data_url(png())},
                    format="json")
    assert first.status_code == 201 and made.status_code == 201
    pin = made.json()
    assert set(pin) == {"id", "caption", "state", "url", "thumbnail_url", "created_by", "created_at"}
    assert (pin["caption"], pin["state"], pin["created_by"]) == ("Planted community, day 1", STATE, "bob")
    assert pin["url"] == f"{_workspace(inv)}?{STATE}"
    assert pin["thumbnail_url"] == reverse("pin-thumbnail", args=[pin["id"]]) and first.json()["thumbnail_url"] is None

    listed = api_for("carol").get(reverse("api-pin-list", args=[inv.pk])).json()
    assert [p["id"] for p in listed] == [pin["id"], first.json()["id"]]  # newest first
    assert listed[0] == pin

    opened = client_for("carol").get(reverse("pin-open", args=[pin["id"]]))
    assert opened.status_code == 302 and opened["Location"] == pin["url"]
    location = urlsplit(opened["Location"])
    assert location.path == _workspace(inv) and location.query == STATE
    assert dict(parse_qsl(location.query))["q"] == "#ghost x"

    # Both pins joined the storyline, in the order they were made, and each left one audit entry.
    assert list(StoryItem.objects.filter(investigation=inv).values_list("pin_id", flat=True)) == \
        [first.json()["id"], pin["id"]]
    entries = AuditEntry.objects.filter(investigation=inv, action="pin.create").order_by("id")
    assert [(e.actor_name, e.object_id, e.detail["state"]) for e in entries] == \
        [("bob", first.json()["id"], "a=1"), ("bob", pin["id"], STATE)]


def test_a_pin_can_stay_off_the_storyline(case, api_for):
    made = api_for("bob").post(reverse("api-pin-list", args=[case["inv"].pk]),
                               {"caption": "aside", "state": "", "storyline": False}, format="json")
    assert made.status_code == 201 and made.json()["url"] == _workspace(case["inv"])
    assert not StoryItem.objects.filter(investigation=case["inv"]).exists()


@pytest.mark.services  # also on PostgreSQL: its BinaryField reads back as a memoryview
def test_the_thumbnail_is_served_to_members_only(case, users, client_for, client):
    image = png()
    pin = pin_create(investigation=case["inv"], user=users["bob"], caption="c", state="a=1", thumbnail_png=image)
    bare = pin_create(investigation=case["inv"], user=users["bob"], caption="d", state="a=2", thumbnail_png=None)
    url = reverse("pin-thumbnail", args=[pin.pk])
    assert client.get(url).status_code == 302  # anonymous: to the login page
    served = client_for("carol").get(url)
    assert served.status_code == 200 and served.content == image
    assert served["Content-Type"] == "image/png" and served["X-Content-Type-Options"] == "nosniff"
    assert "private" in served["Cache-Control"]
    assert client_for("mallory").get(url).status_code == 404
    assert client_for("carol").get(reverse("pin-thumbnail", args=[bare.pk])).status_code == 404


@pytest.mark.parametrize("thumbnail, why", [
    (data_url(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/png"), "must be a PNG"),
    (data_url(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"), "must be a PNG"),
    (data_url(png(), "image/jpeg"), "must be a data URL"),
    ("data:image/png;base64,iVBORw0KGgo*", "not valid base64"),
    (data_url(png(THUMBNAIL_MAX + 1)), "at most 300 KB"),
])
def test_it_refuses_a_thumbnail_that_is_not_a_png_or_too_big(case, api_for, thumbnail, why):
    answer = api_for("bob").post(reverse("api-pin-list", args=[case["inv"].pk]),
                                 {"caption": "c", "state": "a=1", "thumbnail": thumbnail}, format="json")
    assert answer.status_code == 400 and why in answer.json()["thumbnail"][0]
    assert not Pin.objects.filter(investigation=case["inv"]).exists()
    assert not AuditEntry.objects.filter(action="pin.create", investigation=case["inv"]).exists()


def test_a_thumbnail_of_exactly_300_kb_is_kept(case, api_for, client_for):
    image = png(THUMBNAIL_MAX)
    answer = api_for("bob").post(reverse("api-pin-list", args=[case["inv"].pk]),
                                 {"caption": "c", "state": "a=1", "thumbnail": data_url(image)}, format="json")
    assert answer.status_code == 201 and len(image) == THUMBNAIL_MAX
    assert client_for("carol").get(answer.json()["thumbnail_url"]).content == image


@pytest.mark.parametrize("state, why", [
    ("a=" + "x" * (STATE_MAX - 1), "at most 8,000 characters"),
    ("a=1 b", "' ' at position 3"),
    ("a=1#fragment", "'#' at position 3"),
    ('a="x"', "'\"' at position 2"),
    ("a=<script>", "'<' at position 2"),
    ("a=\u00e9", "'é' at position 2"),
    ("a=\n", "'\\n' at position 2"),
    ("a=100%", "'%' at position 5"),
    ("a=%zz", "'%' at position 2"),
    ("a=%ff", "not a query string"),  # an escape that is not UTF-8
])
def test_it_refuses_a_state_that_is_not_a_query_string(case, api_for, state, why):
    api = api_for("bob")
    answer = api.post(reverse("api-pin-list", args=[case["inv"].pk]), {"caption": "c", "state": state}, format="json")
    assert answer.status_code == 400 and why in answer.json()["state"][0]
    layout = api.put(reverse("api-workspace-layout", args=[case["inv"].pk]), {"state": state}, format="json")
    assert layout.status_code == 400 and why in layout.json()["state"][0]
    assert not Pin.objects.filter(investigation=case["inv"]).exists() and not WorkspaceLayout.objects.exists()


def test_a_state_of_8000_characters_and_a_leading_question_mark_are_accepted(case, api_for):
    url = reverse("api-pin-list", args=[case["inv"].pk])
    longest = "a=" + "x" * (STATE_MAX - 2)
    assert api_for("bob").post(url, {"caption": "c", "state": longest}, format="json").json()["state"] == longest
    assert api_for("bob").post(url, {"caption": "c", "state": "?a=1&b="}, format="json").json()["state"] == "a=1&b="


def test_a_javascript_state_is_only_ever_text_in_the_query(case, users, api_for, client_for):
    state = "javascript:alert(document.cookie)//&next=javascript:alert(1)"
    made = api_for("bob").post(reverse("api-pin-list", args=[case["inv"].pk]), {"caption": "js", "state": state},
                               format="json").json()
    assert made["state"] == state and made["url"] == f"{_workspace(case['inv'])}?{state}"
    opened = client_for("carol").get(reverse("pin-open", args=[made["id"]]))
    assert urlsplit(opened["Location"])[:3] == ("", "", _workspace(case["inv"]))  # same site, the workspace page
    page = client_for("carol").get(reverse("storyline", args=[case["inv"].pk])).content.decode()
    assert 'href="javascript:' not in page and f'href="{reverse("pin-open", args=[made["id"]])}"' in page


def test_an_editor_renames_and_deletes_a_pin_with_audit_entries(case, users, api_for):
    pin = pin_create(investigation=case["inv"], user=users["bob"], caption="old", state="a=1")
    api = api_for("bob")
    renamed = api.patch(reverse("api-pin-detail", args=[pin.pk]), {"caption": "new"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["caption"] == "new"
    assert api.patch(reverse("api-pin-detail", args=[pin.pk]), {"caption": "  "}, format="json").status_code == 400
    assert api_for("carol").get(reverse("api-pin-detail", args=[pin.pk])).json()["caption"] == "new"
    assert api.delete(reverse("api-pin-detail", args=[pin.pk])).status_code == 204
    assert not Pin.objects.filter(pk=pin.pk).exists() and not StoryItem.objects.filter(investigation=case["inv"])
    entries = AuditEntry.objects.filter(investigation=case["inv"], object_type="pin").order_by("id")
    assert [(e.action, e.actor_name) for e in entries] == [("pin.create", "bob"), ("pin.edit", "bob"),
                                                           ("pin.delete", "bob")]
    assert entries[1].detail == {"before": "old", "caption": "new"} and entries[2].detail["caption"] == "new"


def test_a_viewer_reads_pins_but_cannot_write_them(case, users, api_for, client_for):
    pin = pin_create(investigation=case["inv"], user=users["bob"], caption="c", state="a=1", thumbnail_png=png())
    inv, item = case["inv"].pk, StoryItem.objects.get(pin=pin).pk
    api = api_for("carol")
    assert api.get(reverse("api-pin-list", args=[inv])).status_code == 200
    assert api.get(reverse("api-storyline", args=[inv])).json()["items"][0]["id"] == pin.pk
    made = api.post(reverse("api-pin-list", args=[inv]), {"caption": "x", "state": ""}, format="json")
    assert made.status_code == 403
    assert api.patch(reverse("api-pin-detail", args=[pin.pk]), {"caption": "x"}, format="json").status_code == 403
    assert api.delete(reverse("api-pin-detail", args=[pin.pk])).status_code == 403
    put = api.put(reverse("api-storyline", args=[inv]), {"items": []}, format="json")
    assert put.status_code == 403
    carol = client_for("carol")
    page = carol.get(reverse("storyline", args=[inv]))
    assert page.status_code == 200 and page.content.decode().count('data-testid="story-item"') == 1
    assert b'data-testid="story-up"' not in page.content and b'data-testid="story-remove"' not in page.content
    for action in ("up", "down", "remove", "text", "add"):
        form = {"action": action, "item": item, "text": "x", "target": f"note:{case['note'].pk}"}
        assert carol.post(reverse("storyline", args=[inv]), form).status_code == 403
    assert carol.post(reverse("pin-edit", args=[pin.pk]), {"caption": "x"}).status_code == 403
    assert carol.post(reverse("pin-delete", args=[pin.pk])).status_code == 403
    pin.refresh_from_db()
    assert pin.caption == "c"
    assert list(StoryItem.objects.filter(investigation=inv).values_list("pk", flat=True)) == [item]
    assert AuditEntry.objects.filter(investigation=case["inv"], actor_name="carol").count() == 0


def test_a_non_member_gets_404_for_every_pin_storyline_and_layout_url(case, users, api_for, client_for):
    pin = pin_create(investigation=case["inv"], user=users["bob"], caption="c", state="a=1", thumbnail_png=png())
    inv = case["inv"].pk
    api = api_for("mallory")
    calls = [
        ("get", reverse("api-pin-list", args=[inv]), None),
        ("post", reverse("api-pin-list", args=[inv]), {"caption": "x", "state": ""}),
        ("get", reverse("api-pin-detail", args=[pin.pk]), None),
        ("patch", reverse("api-pin-detail", args=[pin.pk]), {"caption": "x"}),
        ("delete", reverse("api-pin-detail", args=[pin.pk]), None),
        ("get", reverse("api-storyline", args=[inv]), None),
        ("put", reverse("api-storyline", args=[inv]), {"items": [{"pin": case["their_pin"].pk}]}),
        ("get", reverse("api-workspace-layout", args=[inv]), None),
        ("put", reverse("api-workspace-layout", args=[inv]), {"state": "a=1"}),
    ]
    for method, url, body in calls:
        assert getattr(api, method)(url, body, format="json").status_code == 404, (method, url)
    mallory = client_for("mallory")
    for url in (reverse("pin-open", args=[pin.pk]), reverse("pin-thumbnail", args=[pin.pk]),
                reverse("storyline", args=[inv])):
        assert mallory.get(url).status_code == 404, url
    assert mallory.post(reverse("storyline", args=[inv]), {"action": "remove", "item": 1}).status_code == 404
    assert mallory.post(reverse("pin-edit", args=[pin.pk]), {"caption": "x"}).status_code == 404
    assert mallory.post(reverse("pin-delete", args=[pin.pk])).status_code == 404
    assert Pin.objects.get(pk=pin.pk).caption == "c" and not WorkspaceLayout.objects.exists()
    # and her own case's pin stays hers: Alice's members cannot reach it either
    assert client_for("alice").get(reverse("pin-open", args=[case["their_pin"].pk])).status_code == 404


def test_each_member_keeps_their_own_layout_unaudited(case, api_for):
    url = reverse("api-workspace-layout", args=[case["inv"].pk])
    alice, carol = api_for("alice"), api_for("carol")
    entries = AuditEntry.objects.count()
    assert carol.get(url).json() == {"state": ""}
    assert carol.put(url, {"state": "panels=table"}, format="json").json() == {"state": "panels=table"}
    assert alice.put(url, {"state": "?panels=network&community=3"}, format="json").status_code == 200
    assert carol.put(url, {"state": "panels=timeline"}, format="json").status_code == 200
    assert carol.get(url).json() == {"state": "panels=timeline"}
    assert alice.get(url).json() == {"state": "panels=network&community=3"}
    assert api_for("bob").get(url).json() == {"state": ""}
    assert WorkspaceLayout.objects.count() == 2 and AuditEntry.objects.count() == entries
