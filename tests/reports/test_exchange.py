"""The report as files for other tools: a STIX 2.1 bundle the stix2 library parses without custom content, a MISP
event with DISARM galaxy tags that pymisp loads as MISP reads it, the flagged posts and accounts with every score as
CSV and as Parquet."""
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
    from apps.analyses.models import PostScore

    PostScore.objects.filter(analysis=case["score"], score=0.91).update(unreliable=True)  # unlike the training
    rows = list(csv.DictReader(io.StringIO(read(build("csv")).decode())))
    column = f"score_{case['score'].pk} (io-minilm)"
    assert [r["platform_id"] for r in rows] == ["p0", "p1", "p2", "p3"]  # the four at or above 0.5
    assert [float(r[column]) for r in rows] == [0.97, 0.91, 0.88, 0.62]
    assert rows[0]["account"] == "dam_truth" and rows[0]["flagged_by"] == f"#{case['score'].pk}"
    assert [r["unreliable_in"] for r in rows] == ["", f"#{case['score'].pk}", "", ""]


def test_the_misp_event_loads_in_pymisp_with_valid_types_categories_and_distributions(build):
    from pymisp import MISPEvent

    event = MISPEvent()
    event.load(read(build("misp")))  # MISP's own loader: an unknown type or distribution raises
    assert event.info.endswith(": case report") and event.published is False and event.distribution == 0
    assert [t.name for t in event.tags] == ['misp-galaxy:disarm-techniques="T0049 - Flood Information Space"']
    mappings = event.attributes[0].describe_types["category_type_mappings"]
    written = sorted((a.type, a.category, a.value) for a in event.attributes)
    assert written == [("text", "Social network", "@dam_facts"), ("text", "Social network", "@dam_truth"),
                       ("url", "Network activity", "https://dam-leaks.example/story")]
    assert all(a.type in mappings[a.category] for a in event.attributes)  # pymisp drops a category that does not fit
    assert {a.value: [t.name for t in a.tags] for a in event.attributes}["@dam_truth"] == [t.name for t in event.tags]
    (notes,) = event.event_reports
    assert notes.name == "Case notes" and "amplifies the dam story" in notes.content


def parquet(data: bytes):
    import pyarrow.parquet as pq

    return pq.read_table(io.BytesIO(data))


def test_the_parquet_of_flagged_posts_holds_the_csvs_rows_in_typed_columns(build, case):
    import pyarrow as pa

    rows = list(csv.DictReader(io.StringIO(read(build("csv")).decode())))
    report = build("parquet")
    table = parquet(read(report))
    column = f"score_{case['score'].pk} (io-minilm)"
    assert table.column_names == list(rows[0])
    assert table.schema.field("time").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field(column).type == pa.float64() and table.schema.field("post_id").type == pa.int64()
    posts = table.to_pylist()
    assert [p["platform_id"] for p in posts] == [r["platform_id"] for r in rows] == ["p0", "p1", "p2", "p3"]
    assert [p[column] for p in posts] == [0.97, 0.91, 0.88, 0.62]
    assert [p["time"].isoformat() for p in posts] == [r["time"] for r in rows]
    about = json.loads(table.schema.metadata[b"murmuration"])
    assert about["analyses"] == [{"id": case["score"].pk, "kind": "score", "model": "io-minilm", "threshold": 0.5}]
    assert report.filename.endswith(".posts.parquet") and report.content_type == "application/vnd.apache.parquet"


def test_the_flagged_accounts_carry_every_score_and_their_place_in_each_network(build, case):
    score, network = case["score"].pk, case["network"].pk
    table = parquet(read(build("parquet_accounts"))).to_pylist()
    assert [a["handle"] for a in table] == ["dam_truth", "dam_facts"]  # mean ≥ 0.5, highest first; not gardener
    truth = table[0]
    assert (truth[f"mean_{score} (io-minilm)"], truth[f"max_{score} (io-minilm)"]) == (0.925, 0.97)
    assert (truth[f"share_above_{score} (io-minilm)"], truth[f"posts_{score} (io-minilm)"]) == (1.0, 2)
    assert (truth[f"influence_{network} (coordination)"], truth[f"community_{network} (coordination)"]) == (5.0, 0)
    assert truth["flagged_by"] == f"#{score}" and truth["account_id"] == case["accounts"][0].pk
    rows = list(csv.DictReader(io.StringIO(read(build("csv_accounts")).decode())))
    assert [(r["handle"], r[f"mean_{score} (io-minilm)"], r[f"influence_{network} (coordination)"]) for r in rows] == [
        ("dam_truth", "0.925", "5.0"), ("dam_facts", "0.765", "3.0")]


def test_a_table_of_an_investigation_without_scores_has_its_columns_and_no_rows(case, users):
    from apps.jobs.services import job_execute
    from apps.reports.models import Report
    from apps.reports.services import report_start

    case["score"].delete()
    job = job_execute(job_id=report_start(investigation=case["inv"], user=users["bob"], format="parquet_accounts",
                                          sections=[], enqueue=False).pk)
    table = parquet(read(Report.objects.get(job=job)))
    network = case["network"].pk
    assert job.status == "succeeded" and table.num_rows == 0
    assert table.column_names == ["account_id", "platform_id", "handle", "display_name", "collection", "flagged_by",
                                  f"influence_{network} (coordination)", f"community_{network} (coordination)"]


def test_an_exchange_format_refuses_sections_it_cannot_carry(case, users):
    from django.core.exceptions import ValidationError

    from apps.reports.services import report_start

    with pytest.raises(ValidationError) as refused:
        report_start(investigation=case["inv"], user=users["bob"], format="csv", sections=["audit"], enqueue=False)
    assert "sections" in refused.value.message_dict
