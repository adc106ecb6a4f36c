"""The spread analyses end to end in-process: a small real Twitter15 slice (two short trees
per veracity label, zipped in tmp_path from ../shared/data) imported by the real import job, then the
propagation and retweet-network jobs, their pages, exports (round-tripped through networkx) and the
command; the hashtag network on a generated collection with two planted hashtag camps and a burst."""
from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import datetime, timedelta, timezone
from io import StringIO
from pathlib import Path

import networkx as nx
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from apps.analyses.models import Analysis
from apps.analyses.services import analysis_start
from apps.collections.models import Account, Collection, Entity, Interaction, Post
from apps.jobs.models import Job
from apps.jobs.services import job_execute

pytestmark = [pytest.mark.django_db, pytest.mark.services]
LABELS = ("false", "true", "unverified", "non-rumor")
_EDGE = re.compile(r"\['([^']*)', '([^']*)', '([^']*)'\]->\['([^']*)', '([^']*)', '([^']*)'\]")


def twitter15_slice(shared: Path, out: Path, per_label: int = 2) -> tuple[Path, dict]:
    """The ``per_label`` shortest trees of each label, with label.txt and source_tweets.txt cut to
    them; returns the zip and {source id: label}."""
    with zipfile.ZipFile(shared / "twitter15" / "twitter15.zip") as real:
        labels = dict(reversed(line.split(":")) for line in real.read("twitter15/label.txt").decode().split())
        sizes = {
            n.rsplit("/", 1)[1][:-4]: real.getinfo(n).file_size
            for n in real.namelist()
            if "/tree/" in n and n.endswith(".txt")
        }
        picked = {}
        for label in LABELS:
            ids = sorted((s for s in sizes if labels.get(s) == label), key=lambda s: (sizes[s], s))[:per_label]
            picked.update({s: label for s in ids})
        members = {f"twitter15/tree/{s}.txt": real.read(f"twitter15/tree/{s}.txt") for s in picked}
        texts = [
            line
            for line in real.read("twitter15/source_tweets.txt").decode().splitlines()
            if line.split("\t", 1)[0] in picked
        ]
    members["twitter15/label.txt"] = "".join(f"{label}:{s}\n" for s, label in picked.items()).encode()
    members["twitter15/source_tweets.txt"] = ("\n".join(texts) + "\n").encode()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out, picked


def import_twitter15(
    investigation, user, shared: Path, tmp_path: Path, name: str = "twitter15"
) -> tuple[Collection, dict]:
    from apps.collections.services import import_start

    path, picked = twitter15_slice(shared, tmp_path / "t15.zip")
    job = import_start(
        investigation=investigation,
        user=user,
        collection_name=name,
        files=[{"path": str(path), "name": path.name}],
        enqueue=False,
    )
    job = job_execute(job_id=job.pk)
    assert job.status == "succeeded", job.error
    return Collection.objects.get(investigation=investigation, name=name), picked


def run(investigation, user, collection, kind, **params) -> Analysis:
    job = job_execute(
        job_id=analysis_start(
            investigation=investigation, user=user, kind=kind, collection=collection, params=params, enqueue=False
        ).pk
    )
    assert job.status == "succeeded", job.error
    return Analysis.objects.get(job=job)


@pytest.fixture
def twitter15(investigation, users, shared_data, tmp_path):
    return import_twitter15(investigation, users["alice"], shared_data, tmp_path)


@pytest.fixture
def propagation(investigation, users, twitter15) -> Analysis:
    return run(investigation, users["bob"], twitter15[0], "propagation")


def test_every_twitter15_tree_is_a_cascade_measured_and_split_by_veracity(propagation, twitter15):
    collection, picked = twitter15
    result = propagation.result
    assert result["label_key"] == "veracity" and result["labels"] == sorted(LABELS)
    assert {c["platform_id"] for c in result["cascades"]} == set(picked)
    for c in result["cascades"]:  # each source's stored posts form its whole cascade
        stored = Post.objects.filter(collection=collection, ref_post_id=c["platform_id"]).count() + 1
        assert c["size"] == stored and c["label"] == picked[c["platform_id"]]
    assert max(c["depth"] for c in result["cascades"]) >= 2  # the trees keep their structure
    assert {r["label"]: r["cascades"] for r in result["by_label"]} == dict.fromkeys(LABELS, 2)
    assert [t["name"] for t in result["distributions"]["structural_virality"]["data"]] == sorted(LABELS)
    assert {d["label"] for d in result["drawings"]} == set(LABELS)
    assert propagation.summary["cascades"] == 8 and propagation.summary["label_key"] == "veracity"


def test_a_cascade_matches_its_tree_file(propagation, twitter15, shared_data):
    """The largest drawn cascade's edges are the file's edges (accounts), read straight from the zip."""
    drawing = max(propagation.result["drawings"], key=lambda d: d["size"])
    with zipfile.ZipFile(shared_data / "twitter15" / "twitter15.zip") as real:
        lines = real.read(f"twitter15/tree/{drawing['platform_id']}.txt").decode().splitlines()
    given = {(m.group(1), m.group(4)) for m in map(_EDGE.match, lines) if m and m.group(1) != "ROOT"}
    accounts = dict(Account.objects.filter(collection=twitter15[0]).values_list("id", "platform_id"))
    posts = dict(Post.objects.filter(collection=twitter15[0]).values_list("id", "account_id"))
    rebuilt = {(accounts[posts[p]], accounts[a]) for p, _c, _d, a in drawing["edges"]}
    assert rebuilt <= given and len(rebuilt) >= len(given) - 2  # a repeated account may pick another of its nodes


def test_the_propagation_page_and_exports(client_for, propagation):
    client = client_for("carol")
    page = client.get(reverse("analysis-detail", args=[propagation.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="cascade-select"' in html and "dist-structural_virality" in html
    assert html.count('data-testid="label-row"') == 4
    for fmt, read in (("gexf", nx.read_gexf), ("graphml", nx.read_graphml)):
        response = client.get(reverse("analysis-export", args=[propagation.pk, fmt]))
        graph = read(io.BytesIO(response.content))
        assert graph.is_directed() and graph.number_of_edges() == sum(
            len(d["edges"]) for d in propagation.result["drawings"]
        )
        assert all("delay_s" in attrs for _, _, attrs in graph.edges(data=True))
    rows = list(
        csv.DictReader(StringIO(client.get(reverse("analysis-export", args=[propagation.pk, "csv"])).content.decode()))
    )
    assert rows and set(rows[0]) == {"cascade", "label", "source", "target", "target_account", "delay_s"}


def test_the_retweet_network_of_twitter15_has_communities_and_round_trips(client_for, investigation, users, twitter15):
    analysis = run(investigation, users["bob"], twitter15[0], "retweet_network")
    result = analysis.result
    assert result["directed"] and result["edges_total"] > 0 and result["communities_total"] >= 4  # 8 separate trees
    assert result["modularity"] > 0.5 and result["label_key"] == "veracity"
    # accounts coloured by what they spread (docs/methods.md §spread, paper figure 5)
    assert "posts_veracity" in result["label_keys"]
    client = client_for("carol")
    html = client.get(reverse("analysis-detail", args=[analysis.pk])).content.decode()
    assert 'data-testid="filter-size"' in html and 'data-testid="filter-rule"' not in html and "modularity" in html
    graph = nx.read_graphml(io.BytesIO(client.get(reverse("analysis-export", args=[analysis.pk, "graphml"])).content))
    assert graph.is_directed() and graph.number_of_edges() == len(result["edges"])
    assert {"community", "in_weight", "out_weight"} <= set(next(iter(graph.nodes(data=True)))[1])


# The hashtag network: two camps of hashtags, each used together; one bridge post; a burst. --------

START = datetime(2024, 5, 1, tzinfo=timezone.utc)
CAMPS = {"left": ["vote", "rally", "unions", "healthcare"], "right": ["border", "taxes", "freedom", "guns"]}


def store_hashtag_collection(collection) -> None:
    accounts = [Account.objects.create(collection=collection, platform_id=str(i), handle=f"user{i}") for i in range(6)]
    rows = []  # (account, time, tags, label)
    for hour in range(72):
        for camp, tags in CAMPS.items():
            rows.append(
                (
                    accounts[hour % 3 + (3 if camp == "right" else 0)],
                    START + timedelta(hours=hour, minutes=7),
                    [tags[hour % 4], tags[(hour + 1) % 4]],
                    "false" if camp == "right" else "true",
                )
            )
    rows += [
        (accounts[0], START + timedelta(hours=60, minutes=m), ["border", "taxes"], "false") for m in range(20)
    ]  # the burst
    rows.append((accounts[0], START + timedelta(hours=5), ["vote", "border"], "true"))
    posts = Post.objects.bulk_create(
        [
            Post(
                collection=collection,
                platform_id=f"p{i}",
                account=a,
                time=t,
                text=" ".join(f"#{x}" for x in tags),
                labels={"veracity": label},
            )
            for i, (a, t, tags, label) in enumerate(rows)
        ]
    )
    entities = {
        v: Entity.objects.create(collection=collection, kind="hashtag", value=v)
        for tags in CAMPS.values()
        for v in tags
    }
    Interaction.objects.bulk_create(
        [
            Interaction(
                collection=collection, post=p, source_account=a, action="hashtag", target_entity=entities[tag], time=t
            )
            for p, (a, t, tags, _label) in zip(posts, rows)
            for tag in tags
        ]
    )


@pytest.fixture
def hashtags(investigation, users) -> Analysis:
    collection = Collection.objects.create(investigation=investigation, name="tags")
    store_hashtag_collection(collection)
    return run(investigation, users["bob"], collection, "hashtag_network", min_count=1)


def test_the_hashtag_network_finds_the_two_camps(hashtags):
    result = hashtags.result
    camps = {
        frozenset(n["id"] for n in result["nodes"] if n["community"] == c)
        for c in {n["community"] for n in result["nodes"]}
    }
    assert camps == {frozenset(v) for v in CAMPS.values()}
    assert not result["directed"] and result["modularity"] > 0.3 and result["top_hashtags"][:2] == ["border", "taxes"]
    counts = {n["id"]: n["count"] for n in result["nodes"]}
    assert counts["vote"] == 37  # in 36 of the 72 hourly camp posts, and the bridge
    colours = {n["id"]: n["labels"].get("posts_veracity") for n in result["nodes"]}
    assert colours["guns"] == "false" and colours["rally"] == "true"


def test_the_hashtag_network_exports_open_in_networkx(client_for, hashtags):
    client = client_for("carol")
    stored = {frozenset((e["source"], e["target"])): e["weight"] for e in hashtags.result["edges"]}
    for fmt, read in (("gexf", nx.read_gexf), ("graphml", nx.read_graphml)):
        graph = read(io.BytesIO(client.get(reverse("analysis-export", args=[hashtags.pk, fmt])).content))
        assert not graph.is_directed() and set(graph.nodes) == {n["id"] for n in hashtags.result["nodes"]}
        assert {frozenset((u, v)): w for u, v, w in graph.edges(data="weight")} == stored
        assert {graph.nodes[n]["community"] for n in ("vote", "rally")} != {
            graph.nodes[n]["community"] for n in ("guns", "taxes")
        }
    rows = list(
        csv.DictReader(StringIO(client.get(reverse("analysis-export", args=[hashtags.pk, "csv"])).content.decode()))
    )
    assert {frozenset((r["source"], r["target"])): float(r["weight"]) for r in rows} == stored


def test_infomap_finds_the_two_camps_when_installed(investigation, users):
    """Runs where someone installed the AGPL extra (pip install -r requirements-extra.txt)."""
    pytest.importorskip(
        "infomap", reason="InfoMap is an optional AGPL-3.0 extra: pip install -r requirements-extra.txt"
    )
    collection = Collection.objects.create(investigation=investigation, name="tags-infomap")
    store_hashtag_collection(collection)
    result = run(investigation, users["bob"], collection, "hashtag_network", min_count=1, method="infomap").result
    camps = {
        frozenset(n["id"] for n in result["nodes"] if n["community"] == c)
        for c in {n["community"] for n in result["nodes"]}
    }
    assert (
        camps == {frozenset(v) for v in CAMPS.values()} and result["method"] == "infomap" and result["modularity"] > 0.3
    )


def test_a_hashtags_timeline_flags_its_burst(client_for, hashtags):
    client = client_for("carol")
    url = reverse("analysis-timeline", args=[hashtags.pk])
    found = client.get(url, {"hashtag": "#Taxes", "freq": "hour"}).json()
    assert found["entity"] == "#taxes" and found["posts"] == 18 * 2 + 20
    assert [b["time"][:13] for b in found["bursts"]] == [(START + timedelta(hours=60)).isoformat()[:13]]
    assert {t["name"] for t in found["figure"]["data"] if t["type"] == "bar"} == {"false"}
    assert client.get(url, {"freq": "week", "hashtag": "x"}).status_code == 400
    page = client.get(reverse("analysis-detail", args=[hashtags.pk])).content.decode()
    assert 'data-testid="timeline"' in page and 'data-testid="filter-giant"' in page


def test_a_timeline_splits_by_the_accounts_label_when_the_posts_have_none(client_for, investigation, users):
    collection = Collection.objects.create(investigation=investigation, name="unlabelled")
    store_hashtag_collection(collection)
    Post.objects.filter(collection=collection).update(labels={})
    for account in Account.objects.filter(collection=collection):
        account.labels = {"side": "left" if int(account.platform_id) < 3 else "right"}
        account.save()
    analysis = run(investigation, users["bob"], collection, "hashtag_network", min_count=1)
    found = client_for("carol").get(reverse("analysis-timeline", args=[analysis.pk]), {"hashtag": "taxes"}).json()
    bars = {t["name"]: sum(t["y"]) for t in found["figure"]["data"] if t["type"] == "bar"}
    assert found["split_by"] == "account side" and bars == {
        "right": 36,
        "left": 20,
    }  # the burst came from user0, a left account


def test_infomap_is_optional_and_says_so_when_absent(investigation, users, monkeypatch, client_for, api_for):
    import sys

    monkeypatch.setitem(sys.modules, "infomap", None)
    collection = Collection.objects.create(investigation=investigation, name="empty")
    with pytest.raises(ValidationError) as caught:
        analysis_start(
            investigation=investigation,
            user=users["bob"],
            kind="hashtag_network",
            collection=collection,
            params={"method": "infomap"},
        )
    assert "AGPL" in caught.value.message_dict["method"][0] and not Job.objects.exists()
    page = client_for("bob").post(
        reverse("retweet-network-start", args=[collection.pk]),
        {"actions": ["repost"], "min_weight": 1, "method": "infomap"},
    )
    assert page.status_code == 400 and "InfoMap is not installed" in page.content.decode()


def test_bad_parameters_are_field_errors(investigation, users):
    collection = Collection.objects.create(investigation=investigation, name="empty")
    with pytest.raises(ValidationError) as caught:
        analysis_start(
            investigation=investigation,
            user=users["bob"],
            kind="propagation",
            collection=collection,
            params={"kinds": "retweet", "min_size": 0, "label_key": "a b", "colour": 1},
        )
    assert set(caught.value.message_dict) == {"kinds", "min_size", "label_key", "params"}


def test_a_collection_without_cascades_fails_with_a_sentence(investigation, users):
    collection = Collection.objects.create(investigation=investigation, name="lonely")
    account = Account.objects.create(collection=collection, platform_id="1")
    Post.objects.create(collection=collection, platform_id="a", account=account, time=START)
    job = job_execute(
        job_id=analysis_start(
            investigation=investigation,
            user=users["bob"],
            kind="propagation",
            collection=collection,
            params={},
            enqueue=False,
        ).pk
    )
    assert job.status == "failed" and "no cascade to measure" in job.error


def test_posts_without_a_time_are_left_out_of_cascades(investigation, users):
    collection = Collection.objects.create(investigation=investigation, name="text only")
    account = Account.objects.create(collection=collection, platform_id="row:1", placeholder=True)
    Post.objects.create(collection=collection, platform_id="a", account=account, time=None, text="a claim")
    job = job_execute(job_id=analysis_start(investigation=investigation, user=users["bob"], kind="propagation",
                                            collection=collection, params={}, enqueue=False).pk)
    assert job.status == "failed" and "has no posts" in job.error


def test_the_command_runs_each_kind(investigation, users, twitter15):
    for kind in ("propagation", "retweet_network"):
        out = StringIO()
        call_command(
            "run_analysis",
            kind,
            "--investigation",
            investigation.name,
            "--collection",
            "twitter15",
            "--user",
            "bob",
            stdout=out,
        )
        line = json.loads(out.getvalue().strip().splitlines()[-1])
        assert line["status"] == "succeeded" and line["kind"] == kind
