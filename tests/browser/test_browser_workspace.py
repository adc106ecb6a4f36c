"""The workspace, walked as an analyst walks it on the demo investigation: a real server, a real worker, headless
Chromium. Run coordination → open the workspace → select the planted community → the table and timeline follow →
brush a day → pin the view → a note with a DISARM tag on the community → the pin reopens the same view for a
viewer, read-only → the audit trail lists each step."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from devstack.stack import last_json_line
from tests.browser.test_browser import PASSWORD, arrived, chromium, page, stack  # noqa: F401  (shared fixtures)
from tests.conftest import SHARED_DATA

pytestmark = [pytest.mark.browser, pytest.mark.worker]  # pass 1 only: tests/workspace runs the queries on PostgreSQL

DEMO_PASSWORD = "murmuration-demo"

# The demo's ground truth (the generator writes it beside the data) against the stored network: which community
# holds most of the operation's accounts, and who its members are.
PLANTED_COMMUNITY = """
import json
from collections import Counter
from pathlib import Path
from django.conf import settings
from apps.analyses.models import Analysis
from apps.collections.models import Account
analysis = Analysis.objects.get(kind="coordination")
truth = json.loads(next((Path(settings.VAR_DIR) / "demo").glob("*.truth.json")).read_text())
operation = set(Account.objects.filter(collection=analysis.collection, platform_id__in=truth["operation_userids"])
                .values_list("pk", flat=True))
nodes = analysis.result["nodes"]
community = Counter(n["community"] for n in nodes if n["id"] in operation).most_common(1)[0][0]
members = [n["id"] for n in nodes if n["community"] == community]
print(json.dumps({"analysis": analysis.pk, "community": community, "members": members,
                  "operation_share": len(set(members) & operation) / len(members)}))
"""

VIEWER = """
from django.contrib.auth import get_user_model
from apps.investigations.models import Investigation, Membership
viewer = get_user_model().objects.create_user("vera", password=%r)
Membership.objects.create(investigation=Investigation.objects.get(pk=%d), user=viewer, role="viewer")
"""


def log_in_as(tab, portal, username: str, password: str, next_path: str) -> None:
    from playwright.sync_api import expect

    tab.goto(f"{portal.url}/login/?next={next_path}")
    tab.fill("#id_username", username)
    tab.fill("#id_password", password)
    tab.click("button[type=submit]")
    expect(tab).to_have_url(f"{portal.url}{next_path}")
    arrived(tab)


def ready(tab, after: int | None = None) -> int:
    """Wait until every panel has drawn (after the redraw numbered ``after``, when given); returns the redraw count."""
    from playwright.sync_api import expect

    workspace = tab.get_by_test_id("workspace")
    if after is not None:
        tab.wait_for_function(f"Number(document.getElementById('workspace').dataset.drawn) > {after}")
    expect(workspace).to_have_attribute("data-state", "ready")
    return int(workspace.get_attribute("data-drawn"))


def table_rows(tab) -> list[dict]:
    return tab.evaluate("""() => [...document.querySelectorAll('[data-testid=ws-row]')].map((r) => ({
        post: Number(r.dataset.post), account: Number(r.dataset.account), time: r.cells[0].textContent}))""")


def test_an_analyst_works_the_demo_case_in_the_workspace(stack, page, chromium):  # noqa: F811
    from playwright.sync_api import expect

    demo = last_json_line(stack.manage("demo_setup", "--no-analyses").stdout)
    stack.manage("import_disarm", str(SHARED_DATA / "disarm" / "DISARM.json"))
    stack.shell(VIEWER % (PASSWORD, demo["investigation"]))

    # 1. run coordination on one-minute bins, from the collection's page
    log_in_as(page, stack, "demo", DEMO_PASSWORD, f"/collections/{demo['collection']}/")
    page.get_by_test_id("coordination-link").click()
    page.fill("#id_bin_seconds", "60")
    page.get_by_test_id("coordination-submit").click()
    expect(page.get_by_test_id("job-status")).to_have_text("succeeded", timeout=120_000)
    planted = last_json_line(stack.shell(PLANTED_COMMUNITY))
    assert planted["operation_share"] > 0.8, planted  # the detector found the operation; the walk uses its community

    # 2. the workspace opens on the newest network, the table and the timeline
    page.goto(f"{stack.url}/investigations/{demo['investigation']}/")
    page.get_by_test_id("workspace-link").click()
    drawn = ready(page)
    expect(page.get_by_test_id("ws-panel-net")).to_be_visible()
    expect(page.get_by_test_id("ws-row").first).to_be_visible()
    everyone = {row["account"] for row in table_rows(page)}

    # 3. select the planted community: the table keeps only its accounts' posts, the timeline highlights them
    page.locator(f'[data-testid=ws-community][data-community="{planted["community"]}"]').click()
    drawn = ready(page, drawn)
    expect(page.get_by_test_id("ws-chip-community")).to_be_visible()
    rows = table_rows(page)
    assert rows and {r["account"] for r in rows} <= set(planted["members"]), rows[:5]
    assert everyone - set(planted["members"]), "the unfiltered table already held only the community"
    timeline = page.evaluate("() => document.querySelector('[data-testid=ws-timeline]').data.map((t) => t.name)")
    assert timeline == ["all posts", "selection"]
    network = page.get_by_test_id("ws-network")
    assert int(network.get_attribute("data-lit-nodes")) == len(planted["members"])

    # 4. brush the community's first busy day on the timeline (a real drag across the plot)
    day = rows[0]["time"][:10]
    box = page.evaluate("""(day) => {
        const plot = document.querySelector('[data-testid=ws-timeline]');
        const xa = plot._fullLayout.xaxis, size = plot._fullLayout._size, rect = plot.getBoundingClientRect();
        const px = (t) => rect.left + size.l + xa.d2p(t);
        return {x0: px(day + ' 00:30:00'), x1: px(day + ' 23:30:00'), y: rect.top + size.t + size.h / 2};
    }""", day)
    page.mouse.move(box["x0"], box["y"])
    page.mouse.down()
    page.mouse.move((box["x0"] + box["x1"]) / 2, box["y"], steps=4)
    page.mouse.move(box["x1"], box["y"], steps=4)
    page.mouse.up()
    drawn = ready(page, drawn)
    expect(page.get_by_test_id("ws-chip-from")).to_be_visible()
    brushed = table_rows(page)
    start = datetime.fromisoformat(day)
    assert brushed and all(start <= datetime.fromisoformat(r["time"]) < start + timedelta(days=1) for r in brushed)
    assert {r["account"] for r in brushed} <= set(planted["members"])
    view = page.url.split("?", 1)[1]
    page.set_viewport_size({"width": 1360, "height": 2100})
    page.screenshot(path="/tmp/workspace.png")
    page.set_viewport_size({"width": 1360, "height": 900})

    # 5. pin the view
    page.get_by_test_id("ws-pin").click()
    page.get_by_test_id("ws-pin-caption").fill("The planted amplifiers on their first day")
    page.get_by_test_id("ws-pin-save").click()
    expect(page.get_by_test_id("ws-pin-item")).to_have_count(1)
    pin_url = page.get_by_test_id("ws-pin-open").get_attribute("href")

    # 6. a note on the community, tagged with a DISARM technique
    expect(page.get_by_test_id("ws-note-target")).to_contain_text(f"community {planted['community']}")
    page.get_by_test_id("ws-note-body").fill("**Amplifiers** echo the seeds within a minute.")
    page.get_by_test_id("ws-note-technique").fill("T0049")
    page.get_by_test_id("ws-note-procedure").fill("retweets of the seed accounts within 60 s")
    page.get_by_test_id("ws-note-save").click()
    expect(page.get_by_test_id("ws-note").first).to_contain_text("Amplifiers")
    expect(page.get_by_test_id("ws-note").first.locator("strong")).to_have_text("Amplifiers")

    # 7. the pin reopens the same view for a viewer, who cannot write
    viewer = chromium.new_context(viewport={"width": 1360, "height": 900}).new_page()
    try:
        log_in_as(viewer, stack, "vera", PASSWORD, f"/investigations/{demo['investigation']}/")
        viewer.goto(f"{stack.url}{pin_url}")
        ready(viewer)
        assert viewer.url.split("?", 1)[1] == view
        assert table_rows(viewer) == brushed
        expect(viewer.get_by_test_id("ws-chip-community")).to_be_visible()
        expect(viewer.get_by_test_id("ws-pin")).to_be_hidden()
        expect(viewer.get_by_test_id("ws-note-form")).to_be_hidden()
        refused = viewer.evaluate("""async (pk) => (await fetch(`/api/investigations/${pk}/pins/`, {method: 'POST',
            headers: {'Content-Type': 'application/json',
                      'X-CSRFToken': document.querySelector('[name=csrfmiddlewaretoken]').value},
            body: JSON.stringify({caption: 'x', state: 'c=1'})})).status""", demo["investigation"])
        assert refused == 403
    finally:
        viewer.context.close()

    # 8. the audit trail lists each step, newest first
    audit = page.evaluate("async (pk) => (await (await fetch(`/api/investigations/${pk}/audit/`)).json())",
                          demo["investigation"])
    entries = audit["results"] if isinstance(audit, dict) else audit
    actions = [e["action"] for e in entries]
    for action in ("analysis.start", "pin.create", "note.create", "tag.add"):
        assert action in actions, (action, actions)
    assert actions.index("tag.add") < actions.index("note.create") < actions.index("pin.create") < actions.index(
        "analysis.start")

    # 9. keys: ? lists the shortcuts; / searches; j/k walk the table into the post panel, whose hashtag then fills
    #    the table with that hashtag's posts
    page.keyboard.press("?")
    expect(page.get_by_test_id("ws-help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("ws-help")).to_be_hidden()
    drawn = ready(page)
    page.keyboard.press("/")
    expect(page.get_by_test_id("ws-search")).to_be_focused()
    page.keyboard.type("WakeUpRiverton")
    drawn = ready(page, drawn)
    page.keyboard.press("Escape")
    for key in ("j", "j", "k"):
        page.keyboard.press(key)
    first = table_rows(page)[0]
    expect(page.locator("[data-testid=ws-row].ws-active")).to_have_attribute("data-post", str(first["post"]))
    text = stack.query("SELECT text FROM collections_post WHERE id = ?", (first["post"],))[0][0]
    expect(page.get_by_test_id("ws-post-text")).to_have_text(text)
    drawn = ready(page)
    page.get_by_test_id("ws-entity").filter(has_text="wakeupriverton").click()
    drawn = ready(page, drawn)
    page.get_by_test_id("ws-search").fill("")
    ready(page, drawn)
    expect(page.get_by_test_id("ws-chip-entity")).to_be_visible()
    tagged = page.evaluate("() => [...document.querySelectorAll('[data-testid=ws-row]')]"
                           ".map((r) => r.cells[2].textContent)")
    assert tagged and all("#wakeupriverton" in t.lower() for t in tagged), tagged[:3]
