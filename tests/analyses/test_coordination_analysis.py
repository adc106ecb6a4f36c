"""The coordination and co-action analyses end to end in-process: interactions from the database, the
job, the stored network, evidence for one edge, the exports, the page and the command. A planted
group (op_leader and five echoes) repeats the leader's hashtag and link seconds after each post."""
from __future__ import annotations

import csv
import io
import json
from io import StringIO

import networkx as nx
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from apps.analyses.kinds.base import config_or_errors, kind_get
from apps.analyses.models import Analysis
from apps.analyses.services import analysis_start
from apps.collections.models import Collection
from apps.jobs.models import Job
from apps.jobs.services import job_execute
from tests.analyses.coordination_data import (
    BIN_SECONDS,
    ECHOES,
    EVENT_DATE,
    LEADER,
    PLANTED,
    WINDOW,
    store_coordination_collection,
)

pytestmark = [pytest.mark.django_db, pytest.mark.services]


@pytest.fixture
def collection(investigation):
    return Collection.objects.create(investigation=investigation, name="riverton")


@pytest.fixture
def handles(collection) -> dict[str, int]:
    return store_coordination_collection(collection)


def run(investigation, user, collection, kind="coordination", **params) -> Job:
    job = analysis_start(
        investigation=investigation, user=user, kind=kind, collection=collection, params=params, enqueue=False
    )
    return job_execute(job_id=job.pk)


@pytest.fixture
def coordination(investigation, users, collection, handles) -> Analysis:
    job = run(investigation, users["bob"], collection, bin_seconds=BIN_SECONDS, event_date=EVENT_DATE)
    assert job.status == "succeeded", job.error
    return Analysis.objects.get(job=job)


@pytest.fixture
def coaction(investigation, users, collection, handles) -> Analysis:
    job = run(investigation, users["bob"], collection, kind="coaction", window=WINDOW)
    assert job.status == "succeeded", job.error
    return Analysis.objects.get(job=job)


def test_the_planted_group_is_the_top_community_and_its_leader_the_top_influencer(coordination, handles):
    result = coordination.result
    planted = {handles[h] for h in PLANTED}
    top = {a["id"] for a in result["communities"][0]["accounts"]}
    assert top == planted
    assert result["top_influencer"] == handles[LEADER] and result["top_influencer_handle"] == LEADER
    assert result["communities"][0]["make_up"]["account_category"] == {"Operation": 6}
    assert result["counts"]["all"]["significant"] <= result["counts"]["all"]["paper"]
    assert coordination.summary["top_influencer"] == LEADER


def test_it_splits_the_network_at_the_event_date(coordination):
    split = coordination.result["before_after"]
    assert set(split) >= {"before", "after", "change", "split"}
    assert split["before"]["edges"] and split["after"]["edges"]
    assert set(split["change"]) >= {"all", "hashtag", "url"}


def test_evidence_for_a_planted_edge_lists_the_shared_entities_with_their_lags(coordination, handles):
    kind = kind_get("coordination")
    found = kind.evidence(coordination, handles[LEADER], handles[ECHOES[0]])
    assert found["total"] >= 10
    row = found["rows"][0]
    assert row["entity"].split(":")[0] in ("hashtag", "url") and row["entity_type"] in ("hashtag", "url")
    assert 0 < row["lag_s"] < 3600 * 2
    assert "scandal" in row["source_post"]["text"]


def test_the_coaction_network_finds_the_planted_pairs_and_sweeps_the_windows(coaction, handles):
    kind = kind_get("coaction")
    result = coaction.result
    planted = {handles[h] for h in PLANTED}
    assert {a["id"] for a in result["communities"][0]["accounts"]} == planted
    assert {r["window"] for r in result["sweep"]} == {1, 10, 60, WINDOW, 600, 3600}
    assert result["sweep_figure"]["data"]
    found = kind.evidence(coaction, handles[LEADER], handles[ECHOES[1]])
    assert found["total"] >= 10 and all(abs(r["lag_s"]) <= WINDOW for r in found["rows"])
    assert {r["entity_type"] for r in found["rows"]} >= {"co-hashtag", "co-link", "near-duplicate text"}


def test_past_dask_min_rows_the_kind_tallies_on_a_dask_cluster_with_the_same_edges(
    investigation, users, collection, handles, coaction, settings, client_for
):
    """The settings' scale-out path: DASK_MIN_ROWS 1 sends the pairs to a (here in-process, 2-worker) Dask cluster;
    the stored network is the single-process one, and the page and summary say where it ran."""
    settings.MURMURATION = {**settings.MURMURATION, "DASK_MIN_ROWS": 1, "DASK_SCHEDULER": ""}
    job = run(investigation, users["bob"], collection, kind="coaction", window=WINDOW)
    assert job.status == "succeeded", job.error
    on_dask = Analysis.objects.get(job=job)
    assert on_dask.result["inputs"]["engine"] == "dask" and on_dask.summary["engine"] == "dask"
    assert coaction.result["inputs"]["engine"] == "local"

    def edges(result):
        return sorted((e["source"], e["target"], e["weight"]) for e in result["edges"])

    assert edges(on_dask.result) == edges(coaction.result) and len(edges(coaction.result)) >= 5
    assert on_dask.result["type_counts"] == coaction.result["type_counts"]
    assert on_dask.result["sweep"] == coaction.result["sweep"]
    page = client_for("bob").get(reverse("analysis-detail", args=[on_dask.pk])).content.decode()
    assert 'data-testid="engine"' in page


def test_a_dask_scheduler_that_does_not_answer_fails_the_job_naming_the_setting(
    investigation, users, collection, handles, settings, monkeypatch
):
    import socket

    from ml.coordination import dask_engine

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setattr(dask_engine, "CONNECT_TIMEOUT_S", 1)
    settings.MURMURATION = {**settings.MURMURATION, "DASK_MIN_ROWS": 1, "DASK_SCHEDULER": address}
    before = Analysis.objects.count()
    job = run(investigation, users["bob"], collection, kind="coaction", window=WINDOW)
    assert job.status == "failed"
    assert f"no Dask scheduler answered at {address} within 1 s" in job.error and "DASK_SCHEDULER" in job.error
    assert job.error.startswith("The co-action analysis could not run:") and Analysis.objects.count() == before


def test_past_dask_min_rows_the_one_entity_influence_pass_runs_on_a_dask_cluster(
    investigation, users, collection, handles, settings, client_for
):
    """The coordination kind's compiled pass (one entity type of one entity: here the campaign's #stopthedam, every
    other hashtag excluded) on a Dask cluster past DASK_MIN_ROWS: the single process's edges, and it says so."""
    from tests.analyses.coordination_data import CAMPAIGN_TAGS, TOWN_TAGS

    others = [f"hashtag:{t}" for t in [*CAMPAIGN_TAGS[1:], *TOWN_TAGS]]
    params = {"bin_seconds": BIN_SECONDS, "entity_types": ["hashtag"], "exclude_entities": others}
    runs = {}
    for threshold in (0, 1):
        settings.MURMURATION = {**settings.MURMURATION, "DASK_MIN_ROWS": threshold, "DASK_SCHEDULER": ""}
        job = run(investigation, users["bob"], collection, **params)
        assert job.status == "succeeded", job.error
        runs[threshold] = Analysis.objects.get(job=job)
    local, on_dask = runs[0], runs[1]
    assert (local.result["engine"], on_dask.result["engine"]) == ("local", "dask")
    assert on_dask.summary["engine"] == "dask"

    def edges(result):
        return sorted((e["source"], e["target"], e["weight"]) for e in result["edges"])

    assert edges(on_dask.result) == edges(local.result) and edges(local.result)
    assert {handles[h] for h in PLANTED} >= {e[0] for e in edges(local.result)} | {e[1] for e in edges(local.result)}
    page = client_for("bob").get(reverse("analysis-detail", args=[on_dask.pk])).content.decode()
    assert 'data-testid="engine"' in page


def test_each_action_keeps_its_own_network_for_the_action_filter(coaction, handles):
    kind = kind_get("coaction")
    result = coaction.result
    planted = {handles[h] for h in PLANTED}
    assert set(result["type_edges"]) == set(coaction.params["actions"])
    for action in ("hashtag", "url"):
        edges = result["type_edges"][action]
        assert edges and {e["source"] for e in edges} | {e["target"] for e in edges} <= planted, action
        assert result["type_counts"][action]["significant"] == result["type_edges_total"][action] >= len(edges)
    assert {n["id"] for n in result["nodes"]} >= {e["source"] for es in result["type_edges"].values() for e in es}
    data = kind.page_context(coaction)["network_data"]
    assert data["type_labels"]["repost"] == "co-retweet" and data["type_counts"] == result["type_counts"]


def test_the_paper_rule_stores_its_edges_with_the_significant_ones_first(investigation, users, collection, handles):
    # quarter-hour bins: the echoes lead into the next bin, and the residents overlap a little
    job = run(investigation, users["bob"], collection, bin_seconds=900, rule="paper")
    assert job.status == "succeeded", job.error
    result = Analysis.objects.get(job=job).result
    counts = result["counts"]["all"]
    assert result["rule"] == "paper" and counts["paper_top_k"] == 10, result["counts"]
    assert counts["significant"] < counts["paper_kept"] <= counts["paper"]
    flags = [e["significant"] for e in result["edges"]]
    assert flags == sorted(flags, reverse=True) and sum(flags) == counts["significant"] > 0
    assert {(e["source"], e["target"]) for e in result["edges"] if e["significant"]} >= {
        (handles[LEADER], handles[echo]) for echo in ECHOES[:3]
    }


@pytest.mark.parametrize(
    "kind,params,field",
    [
        ("coordination", {"alpha": 1.5}, "alpha"),
        ("coordination", {"bin_seconds": 0}, "bin_seconds"),
        ("coordination", {"entity_types": "hashtag,emoji"}, "entity_types"),
        ("coordination", {"rule": "loose"}, "rule"),
        ("coordination", {"event_date": "1999-01-01"}, "event_date"),
        ("coordination", {"exclude_entities": "maga"}, "exclude_entities"),
        ("coordination", {"colour": "red"}, "params"),
        ("coaction", {"window": -1}, "window"),
        ("coaction", {"windows": "1,x"}, "windows"),
        ("coaction", {"actions": ["like"]}, "actions"),
        ("coaction", {"min_weight": 0}, "min_weight"),
    ],
)
def test_out_of_range_parameters_are_refused_before_any_job_is_queued(
    investigation, users, collection, kind, params, field
):
    with pytest.raises(ValidationError) as caught:
        analysis_start(investigation=investigation, user=users["bob"], kind=kind, collection=collection, params=params)
    assert field in caught.value.message_dict, caught.value.message_dict
    assert not Job.objects.exists()


def test_an_ml_config_error_speaks_for_its_field_and_any_other_for_the_params():
    from ml.checks import check_range
    from ml.coordination import InfluenceConfig
    from ml.text.config import TextModelError

    errors: dict = {}
    config_or_errors(lambda: InfluenceConfig(alpha=2.0), errors)
    assert errors == {"alpha": "alpha must be in (0, 1), got 2.0"}
    errors = {}
    config_or_errors(lambda: check_range("epochs", 0, 1, 100, error=TextModelError), errors)
    assert list(errors) == ["epochs"]
    errors = {}
    config_or_errors(lambda: (_ for _ in ()).throw(ValueError("alpha must be in (0, 1), got 2")), errors)
    assert errors == {"params": "alpha must be in (0, 1), got 2"}


def test_the_exports_round_trip_through_networkx(client_for, coordination, handles):
    client = client_for("carol")
    gexf = client.get(reverse("analysis-export", args=[coordination.pk, "gexf"]))
    graphml = client.get(reverse("analysis-export", args=[coordination.pk, "graphml"]))
    edges_csv = client.get(reverse("analysis-export", args=[coordination.pk, "csv"]))
    assert gexf.status_code == graphml.status_code == edges_csv.status_code == 200
    assert "attachment" in gexf["Content-Disposition"]
    for graph in (nx.read_gexf(io.BytesIO(gexf.content)), nx.read_graphml(io.BytesIO(graphml.content))):
        assert graph.is_directed()
        assert graph.number_of_edges() == len(coordination.result["edges"])
        assert graph.nodes[str(handles[LEADER])]["label"] == LEADER
        some = coordination.result["edges"][0]
        assert graph.edges[str(some["source"]), str(some["target"])]["weight"] == pytest.approx(some["weight"])
    rows = list(csv.DictReader(io.StringIO(edges_csv.content.decode())))
    assert len(rows) == len(coordination.result["edges"])
    assert {"source_handle", "target_handle", "weight", "q", "significant"} <= set(rows[0])


def test_the_pages_and_the_evidence_endpoint_render_for_a_viewer(client_for, coordination, coaction, handles):
    client = client_for("carol")
    page = client.get(reverse("analysis-detail", args=[coordination.pk])).content.decode()
    assert 'data-testid="network"' in page and "network-data" in page and LEADER in page
    assert 'data-testid="before-after"' in page and 'data-testid="communities"' in page
    assert 'data-testid="sweep"' in client.get(reverse("analysis-detail", args=[coaction.pk])).content.decode()
    url = reverse("analysis-evidence", args=[coordination.pk])
    found = client.get(url, {"source": handles[LEADER], "target": handles[ECHOES[0]]}).json()
    assert found["total"] >= 10 and found["source"]["handle"] == LEADER
    assert client.get(url, {"source": "x", "target": 1}).status_code == 400


def test_the_command_runs_both_kinds_and_prints_one_json_line(investigation, users, collection, handles):
    for kind, extra in (
        ("coordination", ["--param", "entity_types=hashtag,url", "--param", f"bin_seconds={BIN_SECONDS}"]),
        ("coaction", ["--param", "actions=hashtag,url", "--param", f"window={WINDOW}"]),
    ):
        out = StringIO()
        call_command(
            "run_analysis",
            kind,
            "--investigation",
            investigation.name,
            "--collection",
            "riverton",
            "--user",
            "bob",
            *extra,
            stdout=out,
        )
        line = json.loads(out.getvalue().strip().splitlines()[-1])
        assert line["status"] == "succeeded" and line["kind"] == kind and line["accounts"] >= 6, line
