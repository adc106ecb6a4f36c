"""The case timeline: the evidence's own dates ("in the world") beside the audit trail ("in the case"), sorted by
date, on a page and over the API, for members only.

Alice opened "Riverton" on 1 March 2024 (Bob edits it, Carol views it). Its collection's posts run from 20 to 27
February; Bob tagged T0049 seen on 2 March, pinned the 23–24 February window (which joined the storyline) and a
view with no window; a coordination run splits its network on 25 February; Carol exported the trail. Mallory,
no member, has a pinned window of her own."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, date, datetime
from unittest import mock

import pytest
from django.urls import reverse

from apps.analyses.models import Analysis
from apps.audit.timeline import case_timeline, pin_window, timeline_figure
from apps.collections.models import Account, Collection, Post
from apps.collections.stats import collection_stats_refresh
from apps.investigations.services import investigation_create, member_set
from apps.jobs.models import Job
from apps.notes.models import DisarmTechnique
from apps.notes.services import note_create, tag_add
from apps.pins.models import Pin
from apps.pins.services import pin_create, storyline_append

pytestmark = pytest.mark.django_db


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@contextmanager
def now_is(moment: datetime):
    """Audit entries take their ``at`` from ``timezone.now()`` (auto_now_add): write them at ``moment``."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


@pytest.fixture
def riverton(users, client_for):
    with now_is(utc(2024, 3, 1, 9, 0)):
        inv = investigation_create(user=users["alice"], name="Riverton")
        member_set(investigation=inv, username="bob", role="editor", by=users["alice"])
        member_set(investigation=inv, username="carol", role="viewer")  # a command: no actor
    collection = Collection.objects.create(investigation=inv, name="riverton")
    troll = Account.objects.create(collection=collection, platform_id="1", handle="troll")
    for n, when in enumerate([utc(2024, 2, 20, 8, 0), utc(2024, 2, 22, 12, 0), utc(2024, 2, 27, 18, 30)]):
        Post.objects.create(collection=collection, platform_id=f"p{n}", account=troll, text="#riverton", time=when)
    collection_stats_refresh(collection=collection)
    DisarmTechnique.objects.create(external_id="T0049", name="Flood Information Space")
    with now_is(utc(2024, 3, 4, 10, 0)):
        tag = tag_add(investigation=inv, user=users["bob"], technique="T0049", target_type="account",
                      target={"account": troll.pk}, seen_on=date(2024, 3, 2), procedure="hashtag flooding")
    with now_is(utc(2024, 3, 5, 11, 0)):
        pin = pin_create(investigation=inv, user=users["bob"], caption="The flood of #riverton",
                         state="panels=table,timeline&from=2024-02-23T00:00:00&to=2024-02-24T12:00:00")
        pin_create(investigation=inv, user=users["bob"], caption="No window", state="panels=table",
                   add_to_storyline=False)
    job = Job.objects.create(investigation=inv, kind="analysis:coordination", status="succeeded", params={})
    analysis = Analysis.objects.create(investigation=inv, job=job, kind="coordination", collection=collection,
                                       params={"event_date": "2024-02-25T00:00:00+00:00"}, result={}, summary={})
    with now_is(utc(2024, 3, 6, 15, 0)):
        assert client_for("carol").get(reverse("audit-csv", args=[inv.pk])).status_code == 200
    theirs = investigation_create(user=users["mallory"], name="Mallory's own")
    pin_create(investigation=theirs, user=users["mallory"], caption="hers", state="from=2024-02-21T00:00:00")
    return {"inv": inv, "collection": collection, "troll": troll, "tag": tag, "pin": pin, "analysis": analysis}


def test_it_puts_the_evidence_dates_and_the_trail_on_two_lanes_in_date_order(riverton):
    inv, pin, analysis = riverton["inv"], riverton["pin"], riverton["analysis"]
    events = case_timeline(inv)
    assert [(e["lane"], e["kind"], e["start"], e["end"], e["title"], e["actor"]) for e in events] == [
        ("world", "collection", "2024-02-20T08:00:00+00:00", "2024-02-27T18:30:00+00:00", "Posts of “riverton”",
         None),
        ("world", "pin", "2024-02-23T00:00:00+00:00", "2024-02-24T12:00:00+00:00", "The flood of #riverton", None),
        ("world", "story", "2024-02-23T00:00:00+00:00", "2024-02-24T12:00:00+00:00",
         "Step 1: The flood of #riverton", None),
        ("world", "analysis", "2024-02-25T00:00:00+00:00", None, f"Event date of Coordination #{analysis.pk}", None),
        ("case", "investigation", "2024-03-01T09:00:00+00:00", None, "Created the investigation “Riverton”.", "alice"),
        ("case", "member", "2024-03-01T09:00:00+00:00", None, "Added bob as editor.", "alice"),
        ("case", "member", "2024-03-01T09:00:00+00:00", None, "Added carol as viewer.", None),
        ("world", "tag", "2024-03-02", None, "T0049 Flood Information Space", None),
        ("case", "tag", "2024-03-04T10:00:00+00:00", None, "Tagged T0049 on account.", "bob"),
        ("case", "pin", "2024-03-05T11:00:00+00:00", None, "Pinned a view: The flood of #riverton", "bob"),
        ("case", "pin", "2024-03-05T11:00:00+00:00", None, "Pinned a view: No window", "bob"),
        ("case", "export", "2024-03-06T15:00:00+00:00", None, "Exported the audit trail as CSV.", "carol"),
    ]
    urls = [e["url"] for e in events]
    assert urls[:4] == [reverse("collection-detail", args=[riverton["collection"].pk]),
                        reverse("pin-open", args=[pin.pk]),
                        reverse("storyline", args=[inv.pk]) + f"#item-{pin.story_items.get().pk}",
                        reverse("analysis-detail", args=[analysis.pk])]
    # The tag links to what it is on; each audit entry to its object while that exists (a membership has no page).
    troll = riverton["troll"]
    assert urls[7] == reverse("collection-posts", args=[troll.collection_id]) + f"?account={troll.pk}"
    assert urls[4:7] == [reverse("investigation-detail", args=[inv.pk]), None, None]
    assert urls[8:] == [reverse("disarm", args=[inv.pk]), reverse("pin-open", args=[pin.pk]),
                        reverse("pin-open", args=[Pin.objects.get(caption="No window").pk]), None]
    assert events[7]["detail"] == "seen on account @troll: hashtag flooding"
    assert events[8]["detail"] == f"tag.add · techniquetag #{riverton['tag'].pk}"
    assert events[0]["detail"] == "3 posts, first to last"


def test_a_pin_window_reads_the_workspace_state_as_the_workspace_does():
    assert pin_window("from=2024-02-23T00:00:00&to=2024-02-24T12:00:00") == (utc(2024, 2, 23), utc(2024, 2, 24, 12))
    assert pin_window("to=2024-02-24T12:00:00") == (utc(2024, 2, 24, 12), utc(2024, 2, 24, 12))
    assert pin_window("from=2024-02-23T09:30:00 02:00") == (utc(2024, 2, 23, 7, 30), utc(2024, 2, 23, 7, 30))
    assert pin_window("from=2024-02-25T00:00:00&to=2024-02-24T00:00:00") == (utc(2024, 2, 25), None)
    assert pin_window("panels=table") is None
    assert pin_window("from=yesterday") is None


def test_its_figure_draws_ranges_as_bars_and_points_as_markers_with_escaped_hover_text():
    events = [
        {"lane": "world", "start": "2024-02-20T08:00:00+00:00", "end": "2024-02-21T08:00:00+00:00", "kind": "pin",
         "title": "<b>flood</b>", "detail": "", "url": None, "actor": None},
        {"lane": "case", "start": "2024-03-01T09:00:00+00:00", "end": None, "kind": "pin", "title": "Pinned",
         "detail": "pin.create", "url": None, "actor": "bob"},
        {"lane": "world", "start": "2024-03-02", "end": None, "kind": "tag", "title": "T0049", "detail": "",
         "url": None, "actor": None},
    ]
    traces = {(t["name"], t["type"]): t for t in timeline_figure(events)["data"]}
    assert len(traces) == 3
    bars, pin_points, tag_points = traces["pin", "bar"], traces["pin", "scatter"], traces["tag", "scatter"]
    assert (bars["type"], bars["base"], bars["x"], bars["y"]) == ("bar", ["2024-02-20 08:00:00.000000"],
                                                                   [86_400_000.0], ["In the world"])
    assert bars["hovertext"][0].startswith("&lt;b&gt;flood&lt;/b&gt;")
    assert (pin_points["x"], pin_points["y"], pin_points["customdata"]) == (["2024-03-01 09:00:00.000000"],
                                                                             ["In the case"], [1])
    assert pin_points["showlegend"] is False and tag_points["showlegend"] is True
    assert (tag_points["x"], tag_points["customdata"]) == (["2024-03-02"], [2])


def test_members_see_the_page_with_its_chart_and_every_event_in_order(riverton, client_for):
    response = client_for("carol").get(reverse("case-timeline", args=[riverton["inv"].pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-testid="timeline-row"') == 12
    assert 'id="case-timeline-figure" type="application/json"' in page and "js/case-timeline.js" in page
    assert reverse("plotly-js") in page and "<script>" not in page  # the CSP allows no inline script
    assert [r["title"] for r in response.context["rows"]] == [e["title"] for e in case_timeline(riverton["inv"])]
    audit_page = client_for("carol").get(reverse("audit-list", args=[riverton["inv"].pk])).content.decode()
    assert reverse("case-timeline", args=[riverton["inv"].pk]) in audit_page


def test_the_page_and_the_api_filter_by_lane_and_kind(riverton, client_for, api_for):
    url = reverse("case-timeline", args=[riverton["inv"].pk])
    rows = client_for("bob").get(url, {"lane": "world", "kind": "pin"}).context["rows"]
    assert [(r["lane"], r["kind"], r["title"]) for r in rows] == [("world", "pin", "The flood of #riverton")]
    assert [r["title"] for r in client_for("bob").get(url, {"kind": "member"}).context["rows"]] == [
        "Added bob as editor.", "Added carol as viewer."]
    refused = client_for("bob").get(url, {"lane": "sideways"})
    assert refused.status_code == 400 and "lane" in refused.context["form"].errors
    api_url = reverse("api-case-timeline", args=[riverton["inv"].pk])
    found = api_for("carol").get(api_url, {"lane": "case", "kind": "pin"})
    assert found.status_code == 200
    assert [e["title"] for e in found.json()] == ["Pinned a view: The flood of #riverton", "Pinned a view: No window"]
    assert set(found.json()[0]) == {"lane", "start", "end", "kind", "title", "detail", "url", "actor"}
    bad = api_for("carol").get(api_url, {"lane": "sideways"})
    assert bad.status_code == 400 and "lane" in bad.json()
    assert len(api_for("carol").get(api_url).json()) == 12


def test_it_hides_the_timeline_from_non_members(riverton, client_for, api_for):
    inv = riverton["inv"]
    assert client_for("mallory").get(reverse("case-timeline", args=[inv.pk])).status_code == 404
    assert api_for("mallory").get(reverse("api-case-timeline", args=[inv.pk])).status_code == 404


def test_a_storyline_note_is_dated_by_its_tags_and_its_post(riverton, users):
    inv = riverton["inv"]
    post = Post.objects.get(platform_id="p1")  # 22 February, 12:00
    note = note_create(investigation=inv, user=users["bob"], body="The **first** wave\nmore", target_type="post",
                       target={"post": post.pk})
    tag_add(investigation=inv, user=users["bob"], technique="T0049", target_type="note", target={"note": note.pk},
            seen_on=date(2024, 2, 21))
    undated = note_create(investigation=inv, user=users["bob"], body="no date")
    storyline_append(investigation=inv, user=users["bob"], kind="note", pk=note.pk)
    storyline_append(investigation=inv, user=users["bob"], kind="note", pk=undated.pk)
    story = [e for e in case_timeline(inv) if e["kind"] == "story"]
    assert [(e["start"], e["end"], e["title"]) for e in story] == [
        ("2024-02-21", "2024-02-22T12:00:00+00:00", f"Step 2: note #{note.pk}: The **first** wave more"),
        ("2024-02-23T00:00:00+00:00", "2024-02-24T12:00:00+00:00", "Step 1: The flood of #riverton"),
    ]
