"""The workspace's data API: keyset pages that list every filtered post exactly once in order (ties and posts
without a time included), each filter narrowing to exactly the posts it names, the timeline agreeing with the
table, the account and post panels, the stored networks; Mallory (no member) gets 404 everywhere, Carol (viewer)
reads everything, and every bad parameter is a 400 that names it. The world is built in ``conftest.py``."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from django.urls import reverse

from apps.analyses.models import Analysis, PostScore
from apps.collections.models import Account, Collection, Entity, Post
from apps.collections.stats import collection_stats_refresh
from apps.investigations.models import Investigation
from apps.jobs.models import Job
from apps.notes.models import DisarmTechnique, Note, TechniqueTag
from apps.workspace import selectors
from tests.workspace.conftest import COORDINATED, START

pytestmark = pytest.mark.django_db


def posts_url(world) -> str:
    return reverse("api-workspace-posts", args=[world["inv"].pk])


def every_page(api, url: str, params: dict) -> tuple[list[dict], list[dict]]:
    """Every row, following ``next`` to the end, and every page's body."""
    rows, pages, cursor = [], [], None
    while True:
        response = api.get(url, {**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.json()
        page = response.json()
        pages.append(page)
        rows += page["results"]
        cursor = page["next"]
        if cursor is None:
            return rows, pages
        assert len(pages) < 400, "the pages never end"


def expected_order(records: list[dict], sort: str) -> list[int]:
    if sort in ("score", "-score"):
        scored = [r for r in records if r["score"] is not None]
        return [r["id"] for r in sorted(scored, key=lambda r: (r["score"], r["id"]), reverse=sort == "-score")]
    timed = sorted((r for r in records if r["time"]), key=lambda r: (r["time"], r["id"]), reverse=sort == "-time")
    untimed = sorted((r["id"] for r in records if not r["time"]), reverse=sort == "-time")
    return [r["id"] for r in timed] + untimed


@pytest.mark.parametrize("sort", ["time", "-time", "score", "-score"])
def test_keyset_pages_list_every_post_once_in_order(world, api_for, sort):
    params = {"collection": world["col"].pk, "sort": sort, "limit": 17}
    if "score" in sort:
        params["score"] = world["score"].pk
    rows, pages = every_page(api_for("carol"), posts_url(world), params)
    expected = expected_order(world["posts"], sort)
    assert [r["id"] for r in rows] == expected
    assert all(len(p["results"]) == 17 for p in pages[:-1]) and 0 < len(pages[-1]["results"]) <= 17
    assert pages[0]["count"] == len(expected) and pages[0]["count_capped"] is False
    assert all(p["count"] is None and p["count_capped"] is None for p in pages[1:])  # counted once, on the first
    if sort == "time":  # the untimed posts come last, and ties in time were split by id across page boundaries
        assert rows[-1]["time"] is None and rows[-13]["time"] is not None
        assert Counter(r["time"] for r in rows if r["time"]).most_common(1)[0][1] == 3


@pytest.mark.parametrize("sort", ["time", "-time"])
def test_a_few_accounts_pages_merge_their_own_ranges_in_order(world, api_for, sort):
    chosen = [world["accounts"][a].pk for a in (0, 4, 9)]  # 0 and 4 hold untimed posts
    rows, _ = every_page(api_for("carol"), posts_url(world), {"collection": world["col"].pk, "sort": sort, "limit": 7,
                                                              "accounts": ",".join(map(str, chosen))})
    expected = expected_order([r for r in world["posts"] if r["account"] in chosen], sort)
    assert [r["id"] for r in rows] == expected and any(r["time"] is None for r in rows)


def test_a_page_row_has_the_documented_shape(world, api_for):
    first = next(r for r in world["posts"] if r["score"] is not None and r["time"])
    page = api_for("carol").get(posts_url(world), {"collection": world["col"].pk, "score": world["score"].pk,
                                                  "accounts": first["account"], "limit": 200}).json()
    row = next(r for r in page["results"] if r["id"] == first["id"])
    account = Account.objects.get(pk=first["account"])
    assert row == {"id": first["id"], "platform_id": Post.objects.get(pk=first["id"]).platform_id,
                   "time": first["time"].isoformat().replace("+00:00", "Z"), "text": first["text"], "kind": "post",
                   "account": {"id": account.pk, "handle": account.handle}, "labels": first["labels"],
                   "score": first["score"], "unreliable": None}


def _community_accounts(world, community: int) -> set[int]:
    return {world["accounts"][a].pk for a in COORDINATED if a // 6 == community}


FILTERS = {
    "accounts": (lambda w: {"accounts": f"{w['accounts'][3].pk},{w['accounts'][7].pk}"},
                 lambda w, r: r["account"] in (w["accounts"][3].pk, w["accounts"][7].pk)),
    "entity": (lambda w: {"entity": f"{w['entities']['alpha'].pk},{w['entities']['beta'].pk}"},  # some posts use both
               lambda w, r: bool(r["tags"] & {"alpha", "beta"})),
    "from-to": (lambda w: {"from": "2024-03-02T06:30:00", "to": "2024-03-03T00:00:00+00:00"},
                lambda w, r: r["time"] is not None
                and START + timedelta(days=1) <= r["time"] < datetime(2024, 3, 3, tzinfo=timezone.utc)),
    "q": (lambda w: {"q": "vaccine hoax"}, lambda w, r: "Vaccine HOAX" in r["text"]),
    "label-text": (lambda w: {"label": "veracity:false"}, lambda w, r: r["labels"]["veracity"] == "false"),
    "label-number": (lambda w: {"label": "batch:2"}, lambda w, r: r["labels"]["batch"] == 2),
    "min-score": (lambda w: {"score": w["score"].pk, "min_score": "0.7"},
                  lambda w, r: r["score"] is not None and r["score"] >= 0.7),
    "community": (lambda w: {"community": f"{w['coordination'].pk}:1"},
                  lambda w, r: r["account"] in _community_accounts(w, 1)),
    "hashtag-community": (lambda w: {"community": f"{w['hashtags'].pk}:1"},
                          lambda w, r: bool(r["tags"] & {"gamma", "delta"})),
    "all-at-once": (lambda w: {"community": f"{w['coordination'].pk}:0", "q": "POST", "label": "veracity:true",
                               "entity": str(w["entities"]["alpha"].pk), "from": "2024-03-01T12:00:00"},
                    lambda w, r: r["account"] in _community_accounts(w, 0) and r["labels"]["veracity"] == "true"
                    and "alpha" in r["tags"] and r["time"] >= datetime(2024, 3, 1, 12, tzinfo=timezone.utc)),
}


@pytest.mark.parametrize("name", list(FILTERS))
def test_each_filter_narrows_to_exactly_its_posts(world, api_for, name):
    params, keep = FILTERS[name]
    expected = [r for r in world["posts"] if keep(world, r)]
    assert 0 < len(expected) < len(world["posts"])
    rows, pages = every_page(api_for("carol"), posts_url(world), {"collection": world["col"].pk, "limit": 200,
                                                                  **params(world)})
    assert [r["id"] for r in rows] == expected_order(expected, "time")
    assert pages[0]["count"] == len(expected)


def test_a_score_sort_pages_the_filtered_scored_posts(world, api_for):
    params = {"collection": world["col"].pk, "score": world["score"].pk, "sort": "-score", "limit": 9,
              "community": f"{world['coordination'].pk}:0", "min_score": "0.3"}
    rows, _ = every_page(api_for("carol"), posts_url(world), params)
    expected = [r for r in world["posts"] if r["score"] is not None and r["score"] >= 0.3
                and r["account"] in _community_accounts(world, 0)]
    assert [r["id"] for r in rows] == expected_order(expected, "-score")
    assert [r["score"] for r in rows] == sorted((r["score"] for r in expected), reverse=True)


def test_count_is_exact_up_to_the_cap_then_capped(world, api_for, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 100)
    page = api_for("carol").get(posts_url(world), {"collection": world["col"].pk}).json()
    assert (page["count"], page["count_capped"], len(page["results"])) == (100, True, 50)
    page = api_for("carol").get(posts_url(world), {"collection": world["col"].pk, "q": "hoax"}).json()
    assert (page["count"], page["count_capped"]) == (30, False)


def test_a_count_is_read_once_until_an_import_changes_the_collection(world, api_for):
    """The first page's count comes from the cache on a second visit (no COUNT query), and an import, which stamps the
    collection's overview, makes the next count new."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api, params = api_for("carol"), {"collection": world["col"].pk, "q": "hoax"}
    first = api.get(posts_url(world), params).json()["count"]
    assert first == 30
    with CaptureQueriesContext(connection) as seen:
        assert api.get(posts_url(world), params).json()["count"] == 30
    assert not [q["sql"] for q in seen.captured_queries if "COUNT(" in q["sql"].upper()]
    account = Account.objects.filter(collection=world["col"]).first()
    Post.objects.bulk_create(Post(collection=world["col"], account=account, platform_id=f"new{i}", text="a hoax again",
                                  time=START, kind="post", labels={}) for i in range(3))
    collection_stats_refresh(collection=world["col"])  # what every import does last
    assert api.get(posts_url(world), params).json()["count"] == 33


@pytest.mark.parametrize("network", ["coordination", "hashtags"])
def test_one_read_of_a_network_serves_every_community(world, api_for, network):
    """The first community asked reads the stored nodes once and keeps every community's members: the second
    community's page reads no stored result (and both pages list exactly their own members' posts)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api, analysis = api_for("carol"), world[network]
    first = api.get(posts_url(world), {"collection": world["col"].pk, "community": f"{analysis.pk}:0"}).json()
    with CaptureQueriesContext(connection) as seen:
        second = api.get(posts_url(world), {"collection": world["col"].pk, "community": f"{analysis.pk}:1"}).json()
    assert not [q["sql"] for q in seen.captured_queries if '"result"' in q["sql"]]
    if network == "coordination":
        assert {r["account"]["id"] for r in first["results"]} == _community_accounts(world, 0)
        assert {r["account"]["id"] for r in second["results"]} == _community_accounts(world, 1)
    assert first["count"] > 0 and second["count"] > 0


def test_the_timeline_bins_by_day_and_its_selection_sums_to_the_filtered_count(world, api_for):
    url = reverse("api-workspace-timeline", args=[world["inv"].pk])
    col = world["col"].pk
    data = api_for("carol").get(url, {"collection": col}).json()
    timed = [r["time"] for r in world["posts"] if r["time"]]
    per_day = Counter(t.strftime("%Y-%m-%dT00:00:00Z") for t in timed)
    assert data == {"bin": "day", "all": sorted([d, n] for d, n in per_day.items()), "selected": None}
    for name in ("entity", "hashtag-community", "all-at-once", "community"):
        params = {"collection": col, **FILTERS[name][0](world)}
        params.pop("from", None)  # the timeline shows every time: the brush is drawn over it
        data = api_for("carol").get(url, params).json()
        count = api_for("carol").get(posts_url(world), params).json()["count"]
        untimed = sum(1 for r in world["posts"] if not r["time"] and FILTERS[name][1](world, {**r, "time": START}))
        assert sum(n for _, n in data["selected"]) == count - untimed > 0, name  # posts without a time are in no bin
        assert {d for d, _ in data["selected"]} <= {d for d, _ in data["all"]}
    assert untimed > 0  # the community's untimed posts are in its table, not on its timeline
    collection_stats_refresh(collection=world["col"])  # the overview's cached posts per day give the same series
    assert api_for("carol").get(url, {"collection": col}).json()["all"] == data["all"]


def test_a_short_collection_is_binned_by_hour(world, api_for):
    short = Collection.objects.create(investigation=world["inv"], name="one day")
    account = Account.objects.create(collection=short, platform_id="s", handle="short")
    times = [START, START + timedelta(minutes=29), START + timedelta(hours=30, minutes=5), None]
    Post.objects.bulk_create(Post(collection=short, account=account, platform_id=str(i), time=t, text="x" * i)
                             for i, t in enumerate(times))
    data = api_for("carol").get(reverse("api-workspace-timeline", args=[world["inv"].pk]),
                                {"collection": short.pk, "q": "xx"}).json()
    assert data == {"bin": "hour", "all": [["2024-03-01T06:00:00Z", 2], ["2024-03-02T12:00:00Z", 1]],
                    "selected": [["2024-03-02T12:00:00Z", 1]]}


def test_the_account_panel(world, api_for, users):
    acct = world["accounts"][4]
    note = Note.objects.create(investigation=world["inv"], author=users["bob"], target_type="account",
                               target_ref={"account": acct.pk}, body="Troll **farm** <script>alert(1)</script>")
    Note.objects.create(investigation=world["inv"], author=users["bob"], target_type="account",
                        target_ref={"account": world["accounts"][5].pk}, body="someone else")
    technique = DisarmTechnique.objects.create(external_id="T0049", name="Flood Information Space")
    tag = TechniqueTag.objects.create(investigation=world["inv"], technique=technique, target_type="account",
                                      target_ref={"account": acct.pk}, procedure="bursts", created_by=users["bob"])
    data = api_for("carol").get(reverse("api-workspace-account", args=[world["inv"].pk, acct.pk])).json()
    mine = [r for r in world["posts"] if r["account"] == acct.pk]
    scores = [r["score"] for r in mine if r["score"] is not None]
    times = sorted(r["time"] for r in mine if r["time"])
    iso = lambda t: t.isoformat().replace("+00:00", "Z")  # noqa: E731
    assert {k: data[k] for k in ("id", "handle", "platform_id", "followers", "placeholder", "posts", "collection",
                                 "first_post", "last_post", "labels")} == {
        "id": acct.pk, "handle": "acct4", "platform_id": "u4", "followers": 104, "placeholder": False,
        "posts": len(mine), "collection": {"id": world["col"].pk, "name": "takedown"},
        "first_post": iso(times[0]), "last_post": iso(times[-1]), "labels": {"category": "troll"}}
    assert data["scores"] == [{"analysis": world["score"].pk, "title": "Text model scores",
                               "mean": pytest.approx(sum(scores) / len(scores)), "max": max(scores),
                               "posts": len(scores)}]
    assert data["communities"] == [{"analysis": world["coordination"].pk, "title": "Coordination",
                                    "kind": "coordination", "community": 0, "size": 6}]
    assert [n["id"] for n in data["notes"]] == [note.pk] and "<script>" not in data["notes"][0]["html"]
    assert "<strong>farm</strong>" in data["notes"][0]["html"] and data["notes"][0]["author"] == "bob"
    assert data["tags"] == [{"id": tag.pk, "technique": "T0049", "name": "Flood Information Space", "seen_on": None,
                             "procedure": "bursts"}]
    outside = world["accounts"][15]  # in no stored network
    data = api_for("carol").get(reverse("api-workspace-account", args=[world["inv"].pk, outside.pk])).json()
    assert data["communities"] == [] and data["notes"] == [] and data["tags"] == [] and data["authorship"] == []


def test_the_account_panel_lists_the_authorship_outliers(world, api_for, users):
    from tests.workspace.conftest import START, _analysis

    acct = world["accounts"][4]
    ranked = [{"text": "not me", "probability": 0.12}, {"text": "odd", "probability": 0.41},
              {"text": "mine", "probability": 0.93}]
    run = _analysis(world["inv"], world["col"], users["alice"], "authorship", result={"posts": ranked},
                    summary={"account": "acct4", "test_accuracy": 0.81}, params={"account": "acct4",
                                                                               "account_id": acct.pk}, when=START)
    _analysis(world["inv"], world["col"], users["alice"], "authorship", result={"posts": ranked},
              summary={"account": "acct5"}, params={"account": "acct5", "account_id": world["accounts"][5].pk},
              when=START)
    data = api_for("carol").get(reverse("api-workspace-account", args=[world["inv"].pk, acct.pk])).json()
    assert data["authorship"] == [{
        "analysis": run.pk, "title": "Authorship of @acct4", "test_accuracy": 0.81, "checked": 3, "outliers": 2,
        "least_like": [{"text": "not me", "probability": 0.12}, {"text": "odd", "probability": 0.41}],
        "url": reverse("analysis-detail", args=[run.pk])}]


def test_the_post_panel(world, api_for, users):
    record = next(r for r in world["posts"] if r["score"] is not None and len(r["tags"]) == 2)
    Note.objects.create(investigation=world["inv"], author=users["bob"], target_type="post",
                        target_ref={"post": record["id"]}, body="[x](javascript:alert(1)) seen")
    data = api_for("carol").get(reverse("api-workspace-post", args=[world["inv"].pk, record["id"]])).json()
    assert {k: data[k] for k in ("id", "text", "kind", "language", "labels")} == {
        "id": record["id"], "text": record["text"], "kind": "post", "language": "en", "labels": record["labels"]}
    assert data["account"] == {"id": record["account"], "handle": Account.objects.get(pk=record["account"]).handle}
    assert data["entities"] == [{"id": world["entities"][t].pk, "kind": "hashtag", "value": t}
                                for t in sorted(record["tags"])]
    assert data["scores"] == [{"analysis": world["score"].pk, "title": "Text model scores", "score": record["score"],
                               "unreliable": None,  # the model measured no training range
                               "attention_url": reverse("text-model-post", args=[world["model"].pk, record["id"]])}]
    assert len(data["notes"]) == 1 and "href" not in data["notes"][0]["html"]  # sanitised: no javascript: link
    untimed = next(r for r in world["posts"] if r["time"] is None and r["score"] is None)
    data = api_for("carol").get(reverse("api-workspace-post", args=[world["inv"].pk, untimed["id"]])).json()
    assert (data["time"], data["entities"], data["scores"], data["notes"]) == (None, [], [], [])


def test_the_networks_list_holds_the_stored_networks_newest_first(world, api_for):
    job = Job.objects.create(investigation=world["inv"], kind="analysis:propagation", status="succeeded")
    Analysis.objects.create(investigation=world["inv"], job=job, kind="propagation", collection=world["col"],
                            result={}, summary={})
    data = api_for("carol").get(reverse("api-workspace-networks", args=[world["inv"].pk])).json()
    hashtags, coordination = world["hashtags"], world["coordination"]
    assert data == [
        {"id": hashtags.pk, "kind": "hashtag_network", "title": "Hashtag network", "collection": world["col"].pk,
         "nodes": 4, "edges": 2, "created_at": hashtags.created_at.isoformat().replace("+00:00", "Z")},
        {"id": coordination.pk, "kind": "coordination", "title": "Coordination", "collection": world["col"].pk,
         "nodes": 12, "edges": 10, "created_at": coordination.created_at.isoformat().replace("+00:00", "Z")},
    ]


def test_a_network_is_what_its_page_draws_with_its_node_type(world, api_for):
    api = api_for("carol")
    coordination = api.get(reverse("api-analysis-network", args=[world["coordination"].pk])).json()
    stored = world["coordination"].result
    assert {k: coordination[k] for k in ("id", "kind", "directed", "prefix", "noun", "node_type", "collection")} == {
        "id": world["coordination"].pk, "kind": "coordination", "directed": True, "prefix": "@", "noun": "accounts",
        "node_type": "account", "collection": world["col"].pk}
    assert coordination["nodes"] == stored["nodes"] and coordination["edges"] == stored["edges"]
    assert coordination["rule"] == "significant" and "timelines" in coordination  # the page's own network_data
    hashtags = api.get(reverse("api-analysis-network", args=[world["hashtags"].pk])).json()
    assert (hashtags["node_type"], hashtags["prefix"], hashtags["noun"], hashtags["directed"]) == (
        "entity", "#", "hashtags", False)
    assert {n["id"]: n["entity"] for n in hashtags["nodes"]} == {t: e.pk for t, e in world["entities"].items()}
    assert hashtags["edges"] == world["hashtags"].result["edges"]
    response = api.get(reverse("api-analysis-network", args=[world["score"].pk]))
    assert response.status_code == 400 and "analysis" in response.json()


def test_the_active_nodes_are_those_that_acted_in_the_window(world, api_for):
    api = api_for("carol")
    start, end = START + timedelta(hours=10), START + timedelta(hours=14)
    window = {"from": start.isoformat(), "to": end.strftime("%Y-%m-%dT%H:%M:%S")}
    inside = [r for r in world["posts"] if r["time"] and start <= r["time"] < end]
    data = api.get(reverse("api-analysis-network-active", args=[world["coordination"].pk]), window).json()
    nodes = [n["id"] for n in world["coordination"].result["nodes"]]
    assert data == {"active": [n for n in nodes if n in {r["account"] for r in inside}]}
    assert 0 < len(data["active"]) < len(nodes)
    data = api.get(reverse("api-analysis-network-active", args=[world["hashtags"].pk]), window).json()
    used = set().union(*(r["tags"] for r in inside))
    assert data == {"active": [t for t in ("alpha", "beta", "gamma", "delta") if t in used]} and used
    response = api.get(reverse("api-analysis-network-active", args=[world["hashtags"].pk]), {"from": "soon"})
    assert response.status_code == 400 and list(response.json()) == ["from"]


BAD = {
    "collection": lambda w: {},
    "collection-foreign": lambda w: {"collection": Collection.objects.create(
        investigation=Investigation.objects.exclude(pk=w["inv"].pk).first(), name="theirs").pk},
    "accounts": lambda w: {"accounts": "12,x"},
    "community": lambda w: {"community": f"{w['score'].pk}:0"},
    "community-missing": lambda w: {"community": f"{w['coordination'].pk}:7"},
    "community-shape": lambda w: {"community": "12"},
    "entity": lambda w: {"entity": "-1"},
    "from": lambda w: {"from": "yesterday"},
    "to": lambda w: {"from": "2024-03-02", "to": "2024-03-01"},
    "q": lambda w: {"q": "a\x00b"},
    "label": lambda w: {"label": "no-colon"},
    "score": lambda w: {"score": w["coordination"].pk},
    "min_score": lambda w: {"score": w["score"].pk, "min_score": "nan"},
    "sort": lambda w: {"sort": "likes"},
    "sort-score": lambda w: {"sort": "-score"},
    "cursor": lambda w: {"cursor": "bm90IGEgY3Vyc29y"},
    "limit": lambda w: {"limit": "201"},
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_parameter_is_a_400_naming_it(world, api_for, case):
    params = {"collection": world["col"].pk, **BAD[case](world)}
    if case == "collection":
        params.pop("collection")
    response = api_for("carol").get(posts_url(world), params)
    assert response.status_code == 400
    assert list(response.json()) == [case.split("-")[0] if case != "sort-score" else "sort"]
    assert all(isinstance(m, str) and m for m in response.json()[list(response.json())[0]])


def test_a_cursor_continues_only_its_own_sort(world, api_for):
    api, url = api_for("carol"), posts_url(world)
    cursor = api.get(url, {"collection": world["col"].pk, "limit": 5}).json()["next"]
    response = api.get(url, {"collection": world["col"].pk, "sort": "-time", "cursor": cursor})
    assert response.status_code == 400 and list(response.json()) == ["cursor"]
    timeline = api.get(reverse("api-workspace-timeline", args=[world["inv"].pk]), {"collection": "x"})
    assert timeline.status_code == 400 and list(timeline.json()) == ["collection"]


def _every_url(world) -> list[str]:
    inv, post, account = world["inv"].pk, world["posts"][0]["id"], world["accounts"][0].pk
    query = f"?collection={world['col'].pk}"
    return [
        reverse("api-workspace-posts", args=[inv]) + query,
        reverse("api-workspace-timeline", args=[inv]) + query,
        reverse("api-workspace-account", args=[inv, account]),
        reverse("api-workspace-post", args=[inv, post]),
        reverse("api-workspace-networks", args=[inv]),
        reverse("api-analysis-network", args=[world["coordination"].pk]),
        reverse("api-analysis-network-active", args=[world["hashtags"].pk]) + "?from=2024-03-01",
    ]


def test_a_non_member_gets_404_on_every_endpoint_and_a_viewer_reads_them_all(world, api_for):
    for url in _every_url(world):
        assert api_for("mallory").get(url).status_code == 404, url
        assert api_for("carol").get(url).status_code == 200, url


def test_another_investigations_account_or_post_is_404_through_this_one(world, api_for, users):
    theirs = Collection.objects.create(investigation=Investigation.objects.get(name="Mallory's own"), name="theirs")
    stranger = Account.objects.create(collection=theirs, platform_id="x", handle="stranger")
    post = Post.objects.create(collection=theirs, account=stranger, platform_id="x1", text="elsewhere")
    inv = world["inv"].pk
    assert api_for("carol").get(reverse("api-workspace-account", args=[inv, stranger.pk])).status_code == 404
    assert api_for("carol").get(reverse("api-workspace-post", args=[inv, post.pk])).status_code == 404
    # ...and a filter naming them finds nothing of theirs
    theirs_tag = Entity.objects.create(collection=theirs, kind="hashtag", value="alpha")
    for params in ({"accounts": stranger.pk}, {"entity": theirs_tag.pk}):
        page = api_for("carol").get(posts_url(world), {"collection": world["col"].pk, **params}).json()
        assert (page["results"], page["count"]) == ([], 0)
        timeline = api_for("carol").get(reverse("api-workspace-timeline", args=[inv]),
                                        {"collection": world["col"].pk, **params}).json()
        assert timeline["selected"] == []


@pytest.mark.services
def test_keyset_pages_timeline_and_labels_agree_with_python_on_this_database(world, api_for):
    """The vendor-specific parts (NULL times around the cursor, day buckets, JSON label lookups) on PostgreSQL too."""
    api = api_for("carol")
    for sort in ("time", "-time", "-score"):
        params = {"collection": world["col"].pk, "sort": sort, "limit": 41, "score": world["score"].pk}
        rows, _ = every_page(api, posts_url(world), params)
        assert [r["id"] for r in rows] == expected_order([r for r in world["posts"] if r["score"] is not None], sort)
    params = {"collection": world["col"].pk, "label": "batch:1", "q": "WEATHER"}
    rows, _ = every_page(api, posts_url(world), {**params, "limit": 200})
    expected = [r for r in world["posts"] if r["labels"]["batch"] == 1 and "weather" in r["text"]]
    assert [r["id"] for r in rows] == expected_order(expected, "time")
    data = api.get(reverse("api-workspace-timeline", args=[world["inv"].pk]), params).json()
    per_day = Counter(r["time"].strftime("%Y-%m-%dT00:00:00Z") for r in expected if r["time"])
    assert data["selected"] == sorted([d, n] for d, n in per_day.items())


@pytest.mark.services
def test_a_text_search_can_use_the_trigram_index_on_postgresql(world):
    """The table's ``q`` is ``text__icontains``; migration collections 0003 indexes exactly the expression PostgreSQL
    compares (``UPPER(text::text)``), so a search need not read every post. With sequential scans priced out the
    planner must reach for that index: it would not if the indexed expression and Django's SQL differed."""
    from django.db import connection

    from apps.workspace.selectors import filtered_posts, post_filters_build

    if connection.vendor != "postgresql":
        pytest.skip("the trigram index is PostgreSQL's; SQLite's search is a scan")
    posts = filtered_posts(post_filters_build(collection=world["col"], q="vaccine hoax"))
    assert sorted(posts.values_list("platform_id", flat=True)) == sorted(
        f"p{i}" for i, r in enumerate(world["posts"]) if "vaccine hoax" in r["text"].lower()
    )
    # The search alone (a collection's own index wins on these few rows; on the IRA file the search's does).
    sql, params = Post.objects.filter(text__icontains="vaccine hoax").values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "post_text_upper_trgm_idx" in plan, plan


def test_scores_beyond_the_training_range_are_marked_unreliable_in_the_table_and_the_post_panel(world, api_for):
    """The score page's stored out-of-distribution mark (beyond the training range, or above the collection's shift
    limit) follows the score into the workspace; a scoring that measured nothing marks nothing (null, not false)."""
    score, api = world["score"], api_for("carol")
    stored = PostScore.objects.filter(analysis=score)
    ids = sorted(stored.values_list("post_id", flat=True))
    far = set(ids[::3])
    stored.filter(post_id__in=far).update(ood=3.5, unreliable=True)
    stored.exclude(post_id__in=far).update(ood=2.0, unreliable=False)
    for sort in ("time", "-score"):
        rows, _ = every_page(api, posts_url(world), {"collection": world["col"].pk, "score": score.pk, "sort": sort,
                                                     "limit": 50})
        scored = [r for r in rows if r["score"] is not None]
        assert len(scored) == len(ids)
        assert {r["id"] for r in scored if r["unreliable"]} == far
        assert all(r["unreliable"] is None for r in rows if r["score"] is None)
    post = api.get(reverse("api-workspace-post", args=[world["inv"].pk, min(far)])).json()
    assert [s["unreliable"] for s in post["scores"]] == [True]
    stored.update(ood=None, unreliable=None)  # a model trained before the check existed
    rows, _ = every_page(api, posts_url(world), {"collection": world["col"].pk, "score": score.pk, "limit": 200})
    assert {r["unreliable"] for r in rows} == {None}


def test_the_account_panel_shows_the_hybrid_score_and_why(world, api_for):
    """The latest hybrid analysis that scored the account: its probability and each signal's contribution, largest
    effect first, adding up with the intercept to the logit; an account no hybrid scored has none."""
    scored, unscored = world["accounts"][0], world["accounts"][1]
    result = {
        "intercept": -1.5,
        "signal_labels": {"ties": "TIES score", "content": "content score", "degree": "coordination degree"},
        "table": {
            "account": [scored.pk], "probability": [0.8176], "logit": [1.5], "split": ["test"], "label": [1],
            "values": {"ties": [0.91], "content": [None], "degree": [4.0]},
            "contributions": {"ties": [2.5], "content": [0.0], "degree": [0.5]},
        },
    }
    job = Job.objects.create(investigation=world["inv"], kind="analysis:hybrid", status="succeeded", params={})
    hybrid = Analysis.objects.create(investigation=world["inv"], job=job, kind="hybrid", collection=world["col"],
                                     params={}, result=result, summary={})
    api = api_for("carol")
    data = api.get(reverse("api-workspace-account", args=[world["inv"].pk, scored.pk])).json()["hybrid"]
    assert (data["analysis"], data["probability"], data["split"]) == (hybrid.pk, 0.8176, "test")
    assert [(s["label"], s["value"], s["contribution"]) for s in data["signals"]] == [
        ("TIES score", 0.91, 2.5), ("coordination degree", 4.0, 0.5), ("content score", None, 0.0)]
    assert data["intercept"] + sum(s["contribution"] for s in data["signals"]) == pytest.approx(data["logit"])
    assert api.get(reverse("api-workspace-account", args=[world["inv"].pk, unscored.pk])).json()["hybrid"] is None
