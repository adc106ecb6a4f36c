"""The workspace's network panel drawn by graph-gl.js from the binary payload, in headless Chromium: a small stored
network forced onto WebGL (``?renderer=gl``, so the test stays fast; a large one takes that path by its edge count)
shares the workspace's one selection both ways. A community button filters the table and the timeline and lights
the community's nodes in the graph; a click on a node opens its account, shift adds one, alt selects its community;
a time range keeps the edges whose two ends acted in it; a hashtag network's click selects the hashtag."""
from __future__ import annotations

import pytest

from devstack.stack import last_json_line
from tests.browser.test_browser import chromium, investigation_new, log_in, page, stack  # noqa: F401  (shared fixtures)
from tests.browser.test_browser_workspace import ready, table_rows

pytestmark = [pytest.mark.browser, pytest.mark.worker]

# Twelve accounts on a 4 x 3 grid (no two nodes overlap: a click has one answer), two communities of two columns
# each, every pair within a community joined and two pairs across. Community 0 posts on 1 May, community 1 on 2 May;
# two accounts outside the network post on both days. A hashtag network of six tags on a 3 x 2 grid, whose summary
# counts more edges than the workspace's WebGL threshold: it is drawn with graph-gl.js without being asked.
WORLD = """
import json
from datetime import datetime, timedelta, timezone
from django.contrib.auth import get_user_model
from apps.analyses.models import Analysis
from apps.collections.models import Account, Collection, Entity, Post
from apps.investigations.models import Investigation
from apps.jobs.models import Job
from apps.analyses.kinds.network import GL_MIN_EDGES

investigation = Investigation.objects.get(pk=INVESTIGATION)
alice = get_user_model().objects.get(username="alice")
collection = Collection.objects.create(investigation=investigation, name="grid")
accounts = Account.objects.bulk_create(Account(collection=collection, platform_id=f"u{a}", handle=f"acct{a:02d}")
                                       for a in range(14))
community = lambda a: (a % 4) // 2
start = datetime(2024, 5, 1, 8, tzinfo=timezone.utc)
Post.objects.bulk_create(
    Post(collection=collection, account=accounts[a], platform_id=f"p{a}-{k}", text=f"post {k} by acct{a:02d}",
         time=start + timedelta(days=community(a) if a < 12 else k % 2, hours=k), language="en")
    for a in range(14) for k in range(4))
nodes = [{"id": accounts[a].pk, "handle": accounts[a].handle, "labels": {}, "community": community(a),
          "influence": 1.0, "strength": 1.0, "x": float(a % 4), "y": float(a // 4)} for a in range(12)]
pairs = [(a, b) for a in range(12) for b in range(a + 1, 12) if community(a) == community(b)] + [(1, 2), (5, 6)]
edges = [{"source": accounts[a].pk, "target": accounts[b].pk, "weight": 1.0, "significant": True} for a, b in pairs]

def stored(kind, result, summary):
    job = Job.objects.create(investigation=investigation, kind=f"analysis:{kind}", status="succeeded")
    return Analysis.objects.create(investigation=investigation, job=job, kind=kind, collection=collection,
                                   params={}, result=result, summary=summary, created_by=alice)

coordination = stored("coordination", {
    "nodes": nodes, "edges": edges, "edges_stored": len(edges), "edges_total": len(edges), "communities": [],
    "communities_total": 2, "top_influencer": None, "top_influencer_handle": None, "label_keys": [],
    "counts": {"all": {}}, "rule": "significant", "type_edges": {}, "type_edges_total": {}, "inputs": {}},
    {"accounts": 12, "edges": len(edges)})
tags = [f"tag{i}" for i in range(6)]
entities = {t: Entity.objects.create(collection=collection, kind="hashtag", value=t).pk for t in tags}
hashtags = stored("hashtag_network", {
    "nodes": [{"id": t, "handle": t, "labels": {}, "community": i % 3, "x": float(i % 3), "y": float(i // 3),
               "strength": 1.0, "count": 2, "giant": True} for i, t in enumerate(tags)],
    "edges": [{"source": tags[i], "target": tags[i + 3], "weight": 1.0} for i in range(3)],
    "edges_stored": 3, "edges_total": GL_MIN_EDGES, "communities": [], "communities_total": 3, "modularity": 0.0,
    "method": "louvain", "layout": "spring", "giant_size": 6, "directed": False, "label_keys": [], "label_key": None,
    "counts": {}, "inputs": {}, "timings": {}, "top_hashtags": tags, "top_domains": []},
    {"hashtags": 6, "edges": GL_MIN_EDGES})
print(json.dumps({"coordination": coordination.pk, "hashtags": hashtags.pk, "entities": entities,
                  "accounts": [a.pk for a in accounts], "handles": [a.handle for a in accounts],
                  "members": {c: [accounts[a].pk for a in range(12) if community(a) == c] for c in (0, 1)},
                  "edges": len(edges), "within": {c: sum(community(a) == c for a, b in pairs if community(b) == c)
                                                  for c in (0, 1)}}))
"""

GRAPH = "document.querySelector('[data-testid=ws-network]').graphGL"
PLOTLY = "[data-testid=ws-network].js-plotly-plot"  # Plotly marks the element it draws in


@pytest.fixture(scope="module")
def world(stack):  # noqa: F811
    investigation = investigation_new(stack, "Workspace on WebGL")
    found = last_json_line(stack.shell(WORLD.replace("INVESTIGATION", str(investigation))))
    return {**found, "investigation": investigation}


def opened(page, stack, world, query: str) -> int:  # noqa: F811
    """The workspace with ``query``, once every panel and the WebGL frame are drawn; returns the redraw count."""
    log_in(page, stack, f"/investigations/{world['investigation']}/")
    page.goto(f"{stack.url}/investigations/{world['investigation']}/workspace/?{query}")
    drawn = ready(page)
    page.wait_for_selector("[data-testid=ws-network][data-drawn='1']", state="attached")
    page.get_by_test_id("ws-network").scroll_into_view_if_needed()
    return drawn


def click_node(page, node, modifier: str | None = None) -> None:  # noqa: F811
    page.get_by_test_id("ws-network").scroll_into_view_if_needed()  # the table above it grows and shrinks
    at = page.evaluate(f"(id) => {GRAPH}.screenOf(id)", node)
    assert at, f"node {node} is not on screen"
    if modifier:
        page.keyboard.down(modifier)
    page.mouse.click(at["x"], at["y"])
    if modifier:
        page.keyboard.up(modifier)


def selected(page) -> list:  # noqa: F811
    return sorted(page.evaluate(f"() => {GRAPH}.selected()"))


def test_the_gl_network_panel_shares_the_workspace_selection(page, stack, world):  # noqa: F811
    from playwright.sync_api import expect

    coordination, members = world["coordination"], world["members"]
    drawn = opened(page, stack, world, f"panels=table,timeline,net-{coordination},account&renderer=gl")
    network = page.get_by_test_id("ws-network")
    assert page.locator(PLOTLY).count() == 0 and network.get_by_test_id("graph-gl-canvas").count() == 1
    assert page.evaluate(f"() => {GRAPH}.stats.edges") == world["edges"]
    assert network.get_attribute("data-drawn-edges") == str(world["edges"])
    expect(page.get_by_test_id("ws-network-shown")).to_have_text(f"{world['edges']} of {world['edges']} edges")
    assert "renderer=gl" in page.url  # the override stays in the address, out of the view's state
    everyone = {row["account"] for row in table_rows(page)}
    assert everyone - set(members["1"]), "the unfiltered table already held only the community"

    # a community button: the table and the timeline keep its members' posts, the graph lights exactly them
    page.locator('[data-testid=ws-community][data-community="1"]').click()
    drawn = ready(page, drawn)
    expect(page.get_by_test_id("ws-chip-community")).to_be_visible()
    rows = table_rows(page)
    assert rows and {r["account"] for r in rows} == set(members["1"]), rows[:5]
    timeline = page.evaluate("() => document.querySelector('[data-testid=ws-timeline]').data.map((t) => t.name)")
    assert timeline == ["all posts", "selection"]
    assert selected(page) == sorted(members["1"])
    assert network.get_attribute("data-lit-nodes") == str(len(members["1"]))
    expect(page.get_by_test_id("ws-network-shown")).to_contain_text(
        f"6 selected accounts, {world['within']['1']} edges among them")

    # a click on a node selects its account and opens it in the account panel
    first, second = world["accounts"][0], world["accounts"][5]
    click_node(page, first)
    drawn = ready(page, drawn)
    expect(page.get_by_test_id("ws-account-handle")).to_have_text(f"@{world['handles'][0]}")
    expect(page.get_by_test_id("ws-chip-accounts")).to_contain_text("1 account")
    assert {r["account"] for r in table_rows(page)} == {first}
    assert selected(page) == [first]

    # shift adds an account to the selection; alt selects the node's community
    click_node(page, second, "Shift")
    drawn = ready(page, drawn)
    expect(page.get_by_test_id("ws-chip-accounts")).to_contain_text("2 accounts")
    assert selected(page) == sorted([first, second])
    click_node(page, second, "Alt")
    drawn = ready(page, drawn)
    expect(page.get_by_test_id("ws-chip-community")).to_contain_text(f"community 0 of #{coordination}")
    assert selected(page) == sorted(members["0"])
    assert {r["account"] for r in table_rows(page)} == set(members["0"])


def test_a_time_range_keeps_the_edges_whose_two_ends_acted_in_it(page, stack, world):  # noqa: F811
    # community 1 posted on 2 May, community 0 on 1 May: only community 1's edges are left
    coordination = world["coordination"]
    opened(page, stack, world, f"panels=timeline,net-{coordination}&from=2024-05-02T00:00:00&to=2024-05-03T00:00:00"
                               "&renderer=gl")
    within = world["within"]["1"]
    assert page.get_by_test_id("ws-network").get_attribute("data-drawn-edges") == str(within)
    assert page.evaluate(f"() => {GRAPH}.stats.edges") == within
    assert page.get_by_test_id("ws-network-shown").inner_text().startswith(
        f"{within} of {world['edges']} edges whose two ends acted in the time range")


def test_a_hashtag_network_over_the_threshold_is_drawn_with_webgl_and_a_click_selects_the_hashtag(
        page, stack, world):  # noqa: F811
    from playwright.sync_api import expect

    hashtags = world["hashtags"]
    drawn = opened(page, stack, world, f"panels=table,net-{hashtags}")  # no override: its edge count decides
    assert page.get_by_test_id("ws-network").get_by_test_id("graph-gl-canvas").count() == 1
    click_node(page, "tag4")
    ready(page, drawn)
    expect(page.get_by_test_id("ws-chip-entity")).to_contain_text("1 entity")
    assert f"entity={world['entities']['tag4']}" in page.url
    assert selected(page) == ["tag4"]

    # ?renderer=plotly draws the same network with Plotly
    page.goto(f"{stack.url}/investigations/{world['investigation']}/workspace/?panels=net-{hashtags}&renderer=plotly")
    ready(page)
    expect(page.locator(PLOTLY)).to_have_count(1)
    assert page.get_by_test_id("ws-network").get_by_test_id("graph-gl-canvas").count() == 0
