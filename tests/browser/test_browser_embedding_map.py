"""The embedding map coloured by community, in headless Chromium: the legend names each community and the grey
accounts in none; a lasso around one cluster lists exactly its accounts; the selection opens in the workspace,
whose posts table then holds only those accounts' posts."""
from __future__ import annotations

import pytest

from devstack.stack import last_json_line
from tests.browser.test_browser import chromium, investigation_new, log_in, page, stack  # noqa: F401  (shared fixtures)
from tests.browser.test_browser_workspace import ready, table_rows

pytestmark = [pytest.mark.browser, pytest.mark.worker]

# Twelve accounts with two posts each; a stored map of them as the embedding map job writes it: accounts 0-5 in a
# cluster on the left (community 0), 6-9 on the right (community 1), 10-11 on the right in no community.
MAP = """
import json
from datetime import datetime, timedelta, timezone
from django.contrib.auth import get_user_model
from apps.analyses.models import Analysis
from apps.collections.models import Account, Collection, Post
from apps.investigations.models import Investigation
from apps.jobs.models import Job

investigation = Investigation.objects.get(pk=%(investigation)d)
collection = Collection.objects.create(investigation=investigation, name="town", stats={"posts": 24})
start, points = datetime(2024, 3, 1, tzinfo=timezone.utc), []
for i in range(12):
    account = Account.objects.create(collection=collection, platform_id=str(i), handle=f"acct{i}")
    for day in range(2):
        Post.objects.create(collection=collection, platform_id=f"{i}-{day}", account=account, text=f"post {i} {day}",
                            time=start + timedelta(days=day, minutes=i))
    left = i < 6
    points.append({"id": account.pk, "account": account.pk, "handle": f"acct{i}", "posts": 2,
                   "x": (0.0 if left else 10.0) + (i %% 3) * 0.3, "y": (i %% 2) * 0.3,
                   "label": "community 0" if left else ("community 1" if i < 10 else "")})
result = {"unit": "account", "points": points, "candidates": 12, "left_out": 0, "max_points": 20000,
          "posts_embedded": 0, "source": "bundled", "source_name": "TIES embeddings of behaviour analysis #1",
          "behaviour": None, "colour_by": "", "communities_from": {"id": 1, "kind": "coordination",
          "title": "Coordination"}, "labels": {}, "labels_total": 3, "perplexity_asked": 30.0, "perplexity": 3.0,
          "kl_divergence": 0.1, "dimensions": 64, "seed": 0, "seconds": {}}
job = Job.objects.create(investigation=investigation, kind="analysis:embedding_map", status="succeeded")
analysis = Analysis.objects.create(investigation=investigation, job=job, kind="embedding_map", collection=collection,
                                   params={}, result=result, created_by=get_user_model().objects.get(username="alice"))
print(json.dumps({"analysis": analysis.pk, "collection": collection.pk,
                  "left": [p["account"] for p in points[:6]]}))
"""


def test_a_lasso_on_the_community_map_opens_its_accounts_in_the_workspace(stack, page):  # noqa: F811
    from playwright.sync_api import expect

    investigation = investigation_new(stack, "Map")
    made = last_json_line(stack.shell(MAP % {"investigation": investigation}))
    log_in(page, stack, f"/analyses/{made['analysis']}/")
    page.wait_for_selector("#embedding-map[data-drawn]", state="attached")
    page.get_by_test_id("embedding-map").scroll_into_view_if_needed()
    legend = page.evaluate("() => document.querySelector('#embedding-map').data.map((t) => [t.name, t.marker.color])")
    assert dict(legend)["(no community)"] == "#9ca3af" and {"community 0", "community 1"} <= dict(legend).keys()

    # a lasso drawn around the left cluster, inside the plot area (a real drag: the page's dragmode is the lasso)
    corners = page.evaluate("""() => {
        const plot = document.querySelector('#embedding-map'), layout = plot._fullLayout, size = layout._size;
        const rect = plot.getBoundingClientRect();
        const px = (x, y) => [rect.left + size.l + layout.xaxis.d2p(x), rect.top + size.t + layout.yaxis.d2p(y)];
        const [low, high] = layout.xaxis.range, left = low + (high - low) / 100;  // the drag must start inside
        return [px(3, -1), px(left, -1), px(left, 1.3), px(3, 1.3), px(3, -1)];
    }""")
    page.mouse.move(*corners[0])
    page.mouse.down()
    for corner in corners[1:]:
        page.mouse.move(*corner, steps=5)
    page.mouse.up()
    expect(page.get_by_test_id("map-selected-account")).to_have_count(6)
    listed = page.get_by_test_id("map-selected-account").all_inner_texts()
    assert sorted(listed) == [f"@acct{i}" for i in range(6)]
    expect(page.get_by_test_id("map-selection-count")).to_contain_text("6 accounts selected")
    opened = page.get_by_test_id("map-selection-workspace")
    expect(opened).to_have_text("Open these 6 accounts in the workspace")
    assert opened.get_attribute("href") == (f"/investigations/{investigation}/workspace/?c={made['collection']}"
                                            f"&accounts={','.join(map(str, sorted(made['left'])))}")

    opened.click()
    ready(page)
    expect(page.get_by_test_id("ws-row").first).to_be_visible()
    rows = table_rows(page)
    assert len(rows) == 12 and {r["account"] for r in rows} == set(made["left"])
