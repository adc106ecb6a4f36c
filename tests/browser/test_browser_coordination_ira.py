"""The coordination network of real IRA accounts around the 2016 US election, end to end: a real server,
headless Chromium. The October–November 2016 tweets of the IRA dev sample (about 3,000 tweets by some
190 accounts, FiveThirtyEight's sample layout) go through the real importer; the coordination analysis
runs with the election day as its event; the page must draw the network, list the communities with
their make-up by the accounts' own `account_category`, rank the top influencers and show the two
networks before and after the election."""
from __future__ import annotations

import csv
import json
from collections import Counter

import pytest

from devstack.stack import last_json_line
from tests.browser.test_browser import chromium, investigation_new, log_in, page, stack  # noqa: F401  (shared fixtures)
from tests.conftest import SHARED_DATA

pytestmark = [pytest.mark.browser, pytest.mark.worker]  # the shared stack starts a worker; these pages need no services
WINDOW = ("2016-10-01", "2016-12-01")
ELECTION = "2016-11-08"
CATEGORIES = {
    "RightTroll", "LeftTroll", "NewsFeed", "HashtagGamer", "Fearmonger", "Commercial", "NonEnglish", "Unknown",
}


@pytest.fixture(scope="module")
def ira_election(stack, tmp_path_factory):  # noqa: F811
    """The sample's tweets inside WINDOW, imported into the investigation "IRA election"; the account
    category of every author, read from the file itself."""
    source = SHARED_DATA / "ira" / "ira_dev_sample_en.csv"
    if not source.exists():
        pytest.skip(f"{source} is absent: the real-data tests need ../shared/data beside the checkout")
    path = tmp_path_factory.mktemp("ira") / "ira_election.csv"
    with source.open(newline="", encoding="utf-8") as src, path.open("w", newline="", encoding="utf-8") as out:
        reader = csv.DictReader(src)
        rows = [r for r in reader if WINDOW[0] <= r["publish_date"] < WINDOW[1]]
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames)
        writer.writeheader()
        writer.writerows(rows)
    investigation_new(stack, "IRA election")
    imported = last_json_line(stack.manage("import_collection", str(path), "--investigation", "IRA election",
                                           "--collection", "ira_2016", "--user", "alice").stdout)
    assert imported["status"] == "succeeded" and imported["rows_read"] == len(rows) > 2_000, imported
    return {"categories": {r["author_id"]: r["account_category"] for r in rows}}


def run_on_election(stack, kind: str, *params: str) -> dict:  # noqa: F811  (the stack fixture's object, passed in)
    """`manage.py run_analysis` on the election collection (the job the pages start), a --param per item."""
    where = ["--investigation", "IRA election", "--collection", "ira_2016", "--user", "alice"]
    each = [arg for param in params for arg in ("--param", param)]
    return last_json_line(stack.manage("run_analysis", kind, *where, *each).stdout)


def test_the_ira_network_around_the_election_renders_with_its_communities_make_up(stack, ira_election, page):  # noqa: F811
    from playwright.sync_api import expect

    line = run_on_election(stack, "coordination", "min_posts=3", f"event_date={ELECTION}")
    assert line["status"] == "succeeded" and line["significant_edges"] > 20, line
    (stored,) = stack.query("SELECT result FROM analyses_analysis WHERE id = ?", (line["analysis"],))[0]
    result = stored if isinstance(stored, dict) else json.loads(stored)
    log_in(page, stack, f"/analyses/{line['analysis']}/")

    # 1. the network is drawn in WebGL: every stored account a node, coloured by account_category by default
    expect(page.get_by_test_id("network")).to_have_class("net-plot js-plotly-plot")
    nodes = page.evaluate("() => document.querySelector('[data-testid=network]').data"
                          ".find((t) => t.meta === 'nodes').customdata.length")
    assert nodes == len(result["nodes"]) > 20
    assert page.get_by_test_id("filter-colour").input_value() == "label:account_category"
    legend = page.evaluate("() => document.querySelector('[data-testid=network]').data"
                           ".filter((t) => t.meta === 'edges').map((t) => t.name)")
    assert legend and all(" → " in name for name in legend)  # edges coloured by category pairing
    assert {part for name in legend for part in name.split(" → ")} <= CATEGORIES
    # this run used the significant rule: no paper edges to switch to, and the page says so
    rules = page.get_by_test_id("filter-rule").locator("option").all_inner_texts()
    assert rules == [f"significant ({line['significant_edges']:,} edges)"]
    expect(page.get_by_test_id("rule-counts")).to_contain_text("Only the significant edges were stored")

    # 2. each community's make-up by account_category: the real categories of its members, counted
    rows = page.get_by_test_id("communities").get_by_test_id("community-row")
    expect(rows.first).to_be_visible()
    assert rows.count() == len(result["communities"]) >= 2
    handles = {n["id"]: n["handle"] for n in result["nodes"]}
    for row, community in list(zip(rows.all(), result["communities"]))[:3]:
        members = [handles[a["id"]] for a in community["accounts"]]
        expected = Counter(ira_election["categories"][h] for h in members)
        if len(members) == community["size"]:  # every member listed: the counts must match the file
            shown = row.get_by_test_id("make-up").filter(has_text="account_category").inner_text()
            assert all(f"{category} {count}" in shown for category, count in expected.items()), (shown, expected)

    # 3. the top influencers, the top one first, with their category
    influencers = page.get_by_test_id("top-influencers").get_by_test_id("influencer-row")
    assert influencers.count() >= 5
    top = page.get_by_test_id("top-influencer").inner_text().removeprefix("@")
    assert top == result["top_influencer_handle"] and f"@{top}" in influencers.first.inner_text()
    assert f"account_category: {ira_election['categories'][top]}" in influencers.first.inner_text()

    # 4. before and after the election: both networks drawn, the change per entity type tabled
    expect(page.get_by_test_id("network-before")).to_have_class("net-plot net-plot-small js-plotly-plot")
    expect(page.get_by_test_id("network-after")).to_have_class("net-plot net-plot-small js-plotly-plot")
    change = page.get_by_test_id("change-table").locator("tbody tr")
    assert change.count() == len(result["before_after"]["change"]) >= 2
    assert result["before_after"]["before"]["edges"] and result["before_after"]["after"]["edges"]
    page.screenshot(path="/tmp/coordination-ira.png", full_page=True)


def test_the_coaction_page_shows_each_action_network_on_its_own(stack, ira_election, page):  # noqa: F811
    from playwright.sync_api import expect

    line = run_on_election(stack, "coaction", "actions=hashtag,url,mention", "window=3600", "rule=raw", "min_weight=2")
    assert line["status"] == "succeeded", line
    (stored,) = stack.query("SELECT result FROM analyses_analysis WHERE id = ?", (line["analysis"],))[0]
    result = stored if isinstance(stored, dict) else json.loads(stored)
    log_in(page, stack, f"/analyses/{line['analysis']}/")
    expect(page.get_by_test_id("network")).to_have_class("net-plot js-plotly-plot")
    shown = page.get_by_test_id("network-shown")
    expect(shown).to_have_text(f"{len(result['edges']):,} edges, {len(result['nodes']):,} accounts shown")

    # the action filter: the combined network, then each action's own (its own test), one at a time
    options = page.get_by_test_id("filter-type").locator("option").all_inner_texts()
    assert options == ["all actions (combined)", "co-hashtag", "co-link", "co-mention"]
    for action in ("hashtag", "url"):
        page.get_by_test_id("filter-type").select_option(action)
        edges, kept = len(result["type_edges"][action]), result["type_counts"][action]["significant"]
        expect(shown).to_have_text(f"{edges:,} edges, {len(result['nodes']):,} accounts shown")
        expect(page.get_by_test_id("rule-counts")).to_contain_text(f"significant keeps {kept:,}")
    assert result["type_edges"]["hashtag"] and result["type_edges"]["url"]
    assert result["type_edges"]["hashtag"] != result["type_edges"]["url"]


def test_a_paper_rule_run_switches_between_its_edges_and_the_significant_ones(stack, ira_election, page):  # noqa: F811
    from playwright.sync_api import expect

    line = run_on_election(stack, "coordination", "min_posts=3", "rule=paper")
    assert line["status"] == "succeeded" and line["rule"] == "paper", line
    (stored,) = stack.query("SELECT result FROM analyses_analysis WHERE id = ?", (line["analysis"],))[0]
    result = stored if isinstance(stored, dict) else json.loads(stored)
    significant = sum(bool(e["significant"]) for e in result["edges"])
    assert 0 < significant < len(result["edges"])
    log_in(page, stack, f"/analyses/{line['analysis']}/")
    shown = page.get_by_test_id("network-shown")
    expect(page.get_by_test_id("filter-rule")).to_have_value("paper")  # the view opens on the run's own rule
    expect(shown).to_contain_text(f"{len(result['edges']):,} edges")
    expect(page.get_by_test_id("rule-counts")).to_contain_text(
        "Stored under the paper rule: each account's 10 strongest")
    page.get_by_test_id("filter-rule").select_option("significant")
    expect(shown).to_contain_text(f"{significant:,} edges")
