"""Case notes: sanitised Markdown, roles, targets checked against the investigation, links back."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.audit.models import AuditEntry
from apps.notes.models import Note
from apps.notes.services import note_create, tag_add

pytestmark = pytest.mark.django_db

HOSTILE = (
    "# Finding\n\n<script>alert('s')</script>\n\n<img src=x onerror=alert(1)>\n\n"
    "[x](javascript:alert(1)) and <a href=\"javascript:alert(2)\" onclick=\"alert(3)\">y</a>\n\n**bold**"
)


class Elements(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.tags, self.attrs = [], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend((tag, name, value or "") for name, value in attrs)


def assert_inert(html: str):
    """No script element, no handler attribute, no javascript: URL (escaped text saying so is harmless)."""
    found = Elements(html)
    assert "script" not in found.tags and "img" not in found.tags
    assert not [a for a in found.attrs if a[1].startswith("on")]
    assert not [a for a in found.attrs if "javascript:" in a[2].lower().replace(" ", "")]


def test_it_renders_hostile_markdown_inert_on_the_page_and_in_the_api(case, users, client_for, api_for):
    note = note_create(investigation=case["inv"], user=users["bob"], body=HOSTILE)
    page = client_for("carol").get(reverse("note-list", args=[case["inv"].pk])).content.decode()
    body = page.split(f'id="note-{note.pk}"')[1].split('data-testid="note-body">')[1].split("</div>")[0]
    assert "<h1>Finding</h1>" in body and "<strong>bold</strong>" in body
    assert_inert(body)
    assert "<script>alert" not in page  # the raw body in the edit textarea is escaped too
    data = api_for("carol").get(reverse("api-note-detail", args=[note.pk])).json()
    assert data["body"] == HOSTILE
    assert "<strong>bold</strong>" in data["html"]
    assert_inert(data["html"])


def test_a_viewer_reads_notes_but_cannot_write_them(case, users, client_for, api_for):
    note = note_create(investigation=case["inv"], user=users["bob"], body="Bob's note")
    inv = case["inv"].pk
    carol = client_for("carol")
    assert carol.get(reverse("note-list", args=[inv])).status_code == 200
    assert carol.get(reverse("disarm", args=[inv])).status_code == 200
    new_note = {"body": "x", "target_type": "investigation"}
    assert carol.post(reverse("note-list", args=[inv]), new_note).status_code == 403
    assert carol.get(reverse("note-edit", args=[note.pk])).status_code == 403
    assert carol.post(reverse("note-edit", args=[note.pk]), {"body": "changed"}).status_code == 403
    assert carol.post(reverse("note-delete", args=[note.pk])).status_code == 403
    api = api_for("carol")
    assert api.get(reverse("api-note-list", args=[inv])).json()[0]["body"] == "Bob's note"
    assert api.post(reverse("api-note-list", args=[inv]), {"body": "x"}, format="json").status_code == 403
    assert api.patch(reverse("api-note-detail", args=[note.pk]), {"body": "y"}, format="json").status_code == 403
    assert api.delete(reverse("api-note-detail", args=[note.pk])).status_code == 403
    assert Note.objects.get().body == "Bob's note"


def test_a_viewer_cannot_add_or_remove_tags(case, users, client_for, api_for, t0049):
    tag = tag_add(investigation=case["inv"], user=users["bob"], technique="T0049", target_type="account",
                  target={"account": case["troll"].pk})
    inv = case["inv"].pk
    form = {"technique": "T0049", "target_type": "account", "account": case["troll"].pk}
    assert client_for("carol").post(reverse("tag-add", args=[inv]), form).status_code == 403
    assert client_for("carol").post(reverse("tag-remove", args=[tag.pk])).status_code == 403
    api = api_for("carol")
    assert api.get(reverse("api-tag-list", args=[inv])).json()[0]["technique"] == "T0049"
    assert api.post(reverse("api-tag-list", args=[inv]), form, format="json").status_code == 403
    assert api.delete(reverse("api-tag-detail", args=[tag.pk])).status_code == 403
    assert tag.__class__.objects.count() == 1


def test_it_hides_every_note_tag_and_disarm_url_from_non_members(case, users, client_for, api_for, t0049):
    note = note_create(investigation=case["inv"], user=users["bob"], body="secret")
    tag = tag_add(investigation=case["inv"], user=users["bob"], technique="T0049", target_type="note",
                  target={"note": note.pk})
    inv = case["inv"].pk
    mallory = client_for("mallory")
    for url in [reverse("note-list", args=[inv]), reverse("disarm", args=[inv]), reverse("note-edit", args=[note.pk])]:
        assert mallory.get(url).status_code == 404, url
    for url in [reverse("note-list", args=[inv]), reverse("note-edit", args=[note.pk]),
                reverse("note-delete", args=[note.pk]), reverse("tag-add", args=[inv]),
                reverse("tag-remove", args=[tag.pk])]:
        form = {"body": "x", "technique": "T0049", "target_type": "investigation"}
        assert mallory.post(url, form).status_code == 404, url
    api = api_for("mallory")
    for url in [reverse("api-note-list", args=[inv]), reverse("api-note-detail", args=[note.pk]),
                reverse("api-tag-list", args=[inv]), reverse("api-tag-detail", args=[tag.pk]),
                reverse("api-disarm", args=[inv])]:
        assert api.get(url).status_code == 404, url
    assert api.post(reverse("api-note-list", args=[inv]), {"body": "x"}, format="json").status_code == 404
    assert api.post(reverse("api-tag-list", args=[inv]), {"technique": "T0049", "target_type": "note", "note": note.pk},
                    format="json").status_code == 404
    assert api.patch(reverse("api-note-detail", args=[note.pk]), {"body": "y"}, format="json").status_code == 404
    assert api.delete(reverse("api-note-detail", args=[note.pk])).status_code == 404
    assert api.delete(reverse("api-tag-detail", args=[tag.pk])).status_code == 404
    assert Note.objects.get().body == "secret" and tag.__class__.objects.count() == 1


def test_it_refuses_a_target_from_another_investigation(case, users, client_for, api_for):
    theirs = {"account": case["their_account"].pk}
    with pytest.raises(ValidationError) as exc:
        note_create(investigation=case["inv"], user=users["bob"], body="x", target_type="account", target=theirs)
    assert "account" in exc.value.message_dict
    response = client_for("bob").post(reverse("note-list", args=[case["inv"].pk]),
                                      {"body": "x", "target_type": "account", **theirs})
    assert response.status_code == 400
    assert b'data-testid="error-account"' in response.content
    response = api_for("bob").post(reverse("api-note-list", args=[case["inv"].pk]),
                                   {"body": "x", "target_type": "account", **theirs}, format="json")
    assert response.status_code == 400 and "No account" in response.json()["account"][0]
    with pytest.raises(ValidationError) as exc:
        note_create(investigation=case["inv"], user=users["bob"], body="x", target_type="community",
                    target={"analysis": case["analysis"].pk, "community": 99})
    assert "community" in exc.value.message_dict
    assert Note.objects.count() == 0


def test_each_note_links_back_to_what_it_describes(case, users, client_for):
    inv, analysis = case["inv"], case["analysis"]
    posts_url = reverse("collection-posts", args=[case["collection"].pk])
    targets = [
        ("account", {"account": case["troll"].pk}, f"{posts_url}?account={case['troll'].pk}"),
        ("post", {"post": case["post"].pk}, f"#post-{case['post'].pk}"),
        ("entity", {"entity": case["entity"].pk}, f"/collections/{case['collection'].pk}/"),
        ("community", {"analysis": analysis.pk, "community": 3}, f"/analyses/{analysis.pk}/#community-3"),
        ("edge", {"analysis": analysis.pk, "source": case["amplifier"].pk, "target": case["troll"].pk},
         f"/analyses/{analysis.pk}/#network"),
        ("analysis", {"analysis": analysis.pk}, f"/analyses/{analysis.pk}/"),
        ("investigation", {}, f"/investigations/{inv.pk}/"),
    ]
    for target_type, ref, _ in targets:
        note_create(investigation=inv, user=users["bob"], body=f"on {target_type}", target_type=target_type, target=ref)
    edge = {"target_type": "edge", "analysis": analysis.pk, "source": case["troll"].pk, "target": case["amplifier"].pk}
    response = client_for("bob").post(reverse("note-list", args=[inv.pk]), {"body": "via the form", **edge})
    assert response.status_code == 302
    page = client_for("carol").get(reverse("note-list", args=[inv.pk])).content.decode()
    assert "edge @troll → @amplifier" in page
    for _, _, link in targets:
        assert link.replace("&", "&amp;") in page, link
    assert "edge @amplifier → @troll" in page
    only = client_for("carol").get(reverse("note-list", args=[inv.pk]), {"target_type": "community"}).content.decode()
    assert only.count('data-testid="note"') == 1


def test_an_editor_edits_and_deletes_a_note_with_an_audit_trail(case, users, client_for, api_for):
    note = note_create(investigation=case["inv"], user=users["alice"], body="first draft")
    bob = client_for("bob")
    response = bob.post(reverse("note-edit", args=[note.pk]), {"body": "second *draft*"})
    assert response.status_code == 302 and response.url.endswith(f"#note-{note.pk}")
    html = api_for("bob").get(reverse("api-note-detail", args=[note.pk])).json()["html"]
    assert html == "<p>second <em>draft</em></p>\n"
    assert bob.post(reverse("note-delete", args=[note.pk])).status_code == 302
    assert not Note.objects.exists()
    actions = list(AuditEntry.objects.filter(investigation=case["inv"]).values_list("action", flat=True))
    assert sorted(a for a in actions if a.startswith("note.")) == ["note.create", "note.delete", "note.edit"]


def test_a_pin_takes_a_technique_tag_that_links_back_to_the_view_and_refuses_a_foreign_pin(
        case, users, api_for, t0049):
    from apps.investigations.services import investigation_create
    from apps.pins.services import pin_create

    pin = pin_create(investigation=case["inv"], user=users["bob"], caption="the burst", state="c=1&from=2016-10-01")
    inv = case["inv"].pk
    api = api_for("bob")
    made = api.post(reverse("api-tag-list", args=[inv]), {"technique": "T0049", "target_type": "pin", "pin": pin.pk},
                    format="json")
    assert made.status_code == 201, made.json()
    assert made.json()["target_label"] == "pin “the burst”"
    assert made.json()["target_url"] == reverse("pin-open", args=[pin.pk])
    other = investigation_create(user=users["bob"], name="Elsewhere")
    foreign = pin_create(investigation=other, user=users["bob"], caption="theirs", state="c=2")
    refused = api.post(reverse("api-tag-list", args=[inv]), {"technique": "T0049", "target_type": "pin",
                                                              "pin": foreign.pk}, format="json")
    assert refused.status_code == 400 and "pin" in refused.json()
