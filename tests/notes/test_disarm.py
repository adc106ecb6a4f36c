"""DISARM: the framework's STIX bundle imported (idempotently), tags on communities, the evidence panel."""
from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from apps.audit.models import AuditEntry
from apps.notes.models import DisarmTactic, DisarmTechnique, TechniqueTag
from apps.notes.services import note_create, tag_add

pytestmark = pytest.mark.django_db


def run_import(path) -> dict:
    out = io.StringIO()
    call_command("import_disarm", str(path), stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_import_disarm_loads_the_real_bundle_and_is_idempotent(shared_data):
    path = shared_data / "disarm" / "DISARM.json"
    objects = json.loads(path.read_text())["objects"]
    tactics = sum(o["type"] == "x-mitre-tactic" for o in objects)
    techniques = sum(o["type"] == "attack-pattern" for o in objects)
    first = run_import(path)
    assert first == {"command": "import_disarm", "tactics": tactics, "techniques": techniques,
                     "created": tactics + techniques, "updated": 0}
    assert DisarmTactic.objects.count() == tactics and DisarmTechnique.objects.count() == techniques
    flood = DisarmTechnique.objects.get(external_id="T0049")
    assert flood.name == "Flood Information Space" and flood.tactic is not None
    assert DisarmTechnique.objects.get(external_id="T0049.001").parent == flood
    second = run_import(path)
    assert second["created"] == 0 and second["updated"] == tactics + techniques
    assert DisarmTechnique.objects.count() == techniques


def test_import_disarm_refuses_a_file_that_is_no_bundle(tmp_path):
    path = tmp_path / "not.json"
    path.write_text('{"type": "report"}')
    with pytest.raises(CommandError, match="not a STIX bundle"):
        run_import(path)


def test_a_t0049_tag_on_a_community_shows_on_the_disarm_page(case, users, client_for, api_for, t0049):
    inv, analysis = case["inv"], case["analysis"]
    response = client_for("bob").post(reverse("tag-add", args=[inv.pk]), {
        "technique": "t0049", "target_type": "community", "analysis": analysis.pk, "community": 3,
        "seen_on": "2024-03-01", "procedure": "Bursts of identical replies",
    })
    assert response.status_code == 302
    note = note_create(investigation=inv, user=users["bob"], body="flooding seen")
    tag_add(investigation=inv, user=users["bob"], technique="T0049", target_type="note", target={"note": note.pk})
    page = client_for("carol").get(reverse("disarm", args=[inv.pk])).content.decode()
    row = page.split('id="technique-T0049"')[1].split("</tr>")[0]
    assert "TA17 Maximise Exposure" in page
    assert '<td class="num">2</td>' in row
    assert f'/analyses/{analysis.pk}/#community-3' in row and "seen 2024-03-01" in row
    assert f"#note-{note.pk}" in row
    data = api_for("carol").get(reverse("api-disarm", args=[inv.pk])).json()
    assert data[0]["tactic"] == "TA17" and data[0]["techniques"][0]["tag_count"] == 2
    assert set(AuditEntry.objects.filter(action="tag.add").values_list("action", flat=True)) == {"tag.add"}


def test_tags_are_refused_on_unknown_techniques_and_foreign_targets(case, users, api_for, t0049):
    api = api_for("bob")
    url = reverse("api-tag-list", args=[case["inv"].pk])
    mine = {"target_type": "account", "account": case["troll"].pk}
    response = api.post(url, {"technique": "T9999", **mine}, format="json")
    assert response.status_code == 400 and "technique" in response.json()
    response = api.post(url, {"technique": "T0049", "target_type": "account", "account": case["their_account"].pk},
                        format="json")
    assert response.status_code == 400 and "account" in response.json()
    assert not TechniqueTag.objects.exists()


def test_an_editor_removes_a_tag(case, users, client_for, t0049):
    tag = tag_add(investigation=case["inv"], user=users["alice"], technique="T0049", target_type="account",
                  target={"account": case["troll"].pk})
    assert client_for("bob").post(reverse("tag-remove", args=[tag.pk])).status_code == 302
    assert not TechniqueTag.objects.exists()
    assert AuditEntry.objects.filter(action="tag.remove", object_id=tag.pk).exists()
