"""The report as files for other tools: a STIX 2.1 bundle the stix2 library parses without custom content, a MISP
event with DISARM galaxy tags, a CSV of flagged posts with every score."""
from __future__ import annotations

import csv
import io
import json

import pytest

from tests.reports.conftest import read

pytestmark = [pytest.mark.django_db, pytest.mark.services]


def test_the_stix_bundle_parses_strictly_and_holds_the_technique_accounts_notes_and_edges(build, case):
    import stix2

    bundle = stix2.parse(read(build("stix", min_weight=1.0)).decode(), allow_custom=False)
    by_type = {}
    for obj in bundle.objects:
        by_type.setdefault(obj.type, []).append(obj)
    (pattern,) = by_type["attack-pattern"]
    assert [(r.source_name, r.external_id) for r in pattern.external_references] == [("DISARM", "T0049")]
    logins = {a.account_login for a in by_type["user-account"]}
    assert logins == {"dam_truth", "dam_facts"}  # flagged (mean ≥ 0.5); the 0.5-weight edge to gardener is cut
    (report,) = by_type["report"]
    assert set(report.object_refs) == {o.id for o in bundle.objects if o.type != "report"}
    case_note = next(n for n in by_type["note"] if "amplifies the dam story" in n.content)
    assert report.id in case_note.object_refs and pattern.id in case_note.object_refs
    evidence = next(n for n in by_type["note"] if n.abstract == "Why @dam_truth is flagged")
    assert "The dam deal is a scam #damdeal" in evidence.content
    coordinated = [r for r in by_type["relationship"] if r.description and r.description.startswith("Coordinated")]
    ids = {a.account_login: a.id for a in by_type["user-account"]}
    assert [(r.source_ref, r.target_ref) for r in coordinated] == [(ids["dam_truth"], ids["dam_facts"])]
    assert any(r.target_ref == pattern.id and r.description == "Seeds the burst" for r in by_type["relationship"])


def test_the_misp_event_tags_disarm_techniques_as_galaxy_clusters_with_account_and_url_attributes(build):
    event = json.loads(read(build("misp")))["Event"]
    tag = 'misp-galaxy:disarm-techniques="T0049 - Flood Information Space"'
    assert [t["name"] for t in event["Tag"]] == [tag]
    accounts = {a["value"]: a for a in event["Attribute"] if a["category"] == "Social network"}
    assert set(accounts) == {"@dam_truth", "@dam_facts"}
    assert accounts["@dam_truth"]["Tag"] == [{"name": tag}] and "platform id 101" in accounts["@dam_truth"]["comment"]
    urls = [a["value"] for a in event["Attribute"] if a["type"] == "url"]
    assert urls == ["https://dam-leaks.example/story"]
    assert "amplifies the dam story" in event["EventReport"][0]["content"]


def test_the_csv_lists_flagged_posts_highest_first_with_every_score(build, case):
    rows = list(csv.DictReader(io.StringIO(read(build("csv")).decode())))
    column = f"score_{case['score'].pk} (io-minilm)"
    assert [r["platform_id"] for r in rows] == ["p0", "p1", "p2", "p3"]  # the four at or above 0.5
    assert [float(r[column]) for r in rows] == [0.97, 0.91, 0.88, 0.62]
    assert rows[0]["account"] == "dam_truth" and rows[0]["flagged_by"] == f"#{case['score'].pk}"


def test_an_exchange_format_refuses_sections_it_cannot_carry(case, users):
    from django.core.exceptions import ValidationError

    from apps.reports.services import report_start

    with pytest.raises(ValidationError) as refused:
        report_start(investigation=case["inv"], user=users["bob"], format="csv", sections=["audit"], enqueue=False)
    assert "sections" in refused.value.message_dict
