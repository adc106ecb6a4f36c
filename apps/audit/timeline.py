"""The case timeline: the audit trail beside the dates of the evidence, on two lanes.

- **world**: when things happened out there, as the evidence dates them: each collection's first to last post,
  each DISARM tag's ``seen_on``, each pin's time window (``from``/``to`` in its workspace state), each
  coordination analysis's ``event_date``, and each storyline step that has a date;
- **case**: what the analysts did, when: every audit entry (who, the action, its summary, a link to its object
  while the object still exists).

Every event is ``{"lane", "start", "end", "kind", "title", "detail", "url", "actor"}``: ``start`` and ``end`` are
ISO-8601 (a date alone for a day, else a UTC time), ``end`` is None for a point in time. Events come sorted by
``start``; at the same instant the world's come first, then the trail in the order it was written. A case event's
kind is its action's family ("pin" for "pin.create"), so one kind filter shows a pin's window and what was done
to pins.

Reads only: the caller has checked membership (``investigation_get``), and every query here is scoped to the
investigation. ``timeline_figure`` is a pure function (events in, Plotly figure dict out).
"""
from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from itertools import islice
from urllib.parse import parse_qs

from django.urls import reverse

from apps.analyses.models import Analysis, TextModel
from apps.audit.models import AuditEntry
from apps.collections.models import Collection, Post
from apps.investigations.models import Investigation
from apps.jobs.models import Job
from apps.notes.models import Note, TechniqueTag
from apps.notes.selectors import tag_list, with_targets
from apps.pins.models import Pin
from apps.pins.selectors import storyline_get
from apps.triage.models import TriageQueue

LANES = ("world", "case")
LANE_LABELS = {"world": "In the world", "case": "In the case"}
WORLD_KINDS = ("collection", "tag", "pin", "analysis", "story")
TITLE_MAX = 120
IDS_PER_QUERY = 500  # SQLite caps the variables of one statement
# A "+" of an offset arrives as a space when the query string was not encoded ("...T09:30:00 02:00").
_SPACED_OFFSET = re.compile(r"^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d(?::?\d\d)?)$")

When = date | datetime


def case_timeline(investigation: Investigation) -> list[dict]:
    """Every event of the case, both lanes, sorted by start (a stable sort: world before case at one instant)."""
    world = [
        *_collection_events(investigation),
        *_tag_events(investigation),
        *_pin_events(investigation),
        *_analysis_events(investigation),
        *_story_events(investigation),
    ]
    return sorted([*world, *_audit_events(investigation)], key=lambda e: instant(e["start"]))


def timeline_filter(events: list[dict], *, lane: str | None = None, kind: str | None = None) -> list[dict]:
    return [e for e in events if (not lane or e["lane"] == lane) and (not kind or e["kind"] == kind)]


def timeline_kinds(events: list[dict]) -> list[str]:
    """The kinds present: the world's in their fixed order, then the trail's action families alphabetically."""
    present = {e["kind"] for e in events}
    return [k for k in WORLD_KINDS if k in present] + sorted(present - set(WORLD_KINDS))


# Times ----------------------------------------------------------------------------------------------------


def instant(text: str) -> datetime:
    """An event's ISO start or end as an aware UTC datetime (a day alone is its midnight, UTC)."""
    when = _parse(text)
    return when if isinstance(when, datetime) else datetime(when.year, when.month, when.day, tzinfo=UTC)


def _parse(text) -> When | None:
    """An ISO date or time from stored JSON or a query string; naive times are UTC; None when unreadable."""
    raw = _SPACED_OFFSET.sub(r"\1+\2", str(text or "").strip())
    if not raw:
        return None
    try:
        if len(raw) == 10:
            return date.fromisoformat(raw)
        when = datetime.fromisoformat(raw)
    except (ValueError, OverflowError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _iso(when: When) -> str:
    if isinstance(when, datetime):
        return when.astimezone(UTC).isoformat()
    return when.isoformat()


def _event(lane: str, kind: str, start: When, end: When | None, title: str, *, detail: str = "",
           url: str | None = None, actor: str | None = None) -> dict:
    """One event; an ``end`` that is missing, equal to or before ``start`` makes it a point."""
    ranged = end is not None and instant(_iso(end)) > instant(_iso(start))
    return {"lane": lane, "start": _iso(start), "end": _iso(end) if ranged else None, "kind": kind,
            "title": _short(title), "detail": detail, "url": url, "actor": actor}


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= TITLE_MAX else f"{text[:TITLE_MAX - 1]}…"


def _span(values: Iterable[When | None]) -> tuple[When, When | None] | None:
    """The earliest and latest of ``values`` (Nones dropped), or None when there is none."""
    found = sorted((v for v in values if v is not None), key=lambda v: instant(_iso(v)))
    return (found[0], found[-1]) if found else None


# In the world ---------------------------------------------------------------------------------------------


def _collection_events(investigation: Investigation) -> list[dict]:
    events = []
    for collection in Collection.objects.filter(investigation=investigation).only("id", "name", "stats"):
        stats = collection.stats or {}
        span = _span([_parse(stats.get("first_post")), _parse(stats.get("last_post"))])
        if span:
            events.append(_event("world", "collection", *span, f"Posts of “{collection.name}”",
                                 detail=f"{stats.get('posts', 0):,} posts, first to last",
                                 url=reverse("collection-detail", args=[collection.pk])))
    return events


def _tag_events(investigation: Investigation) -> list[dict]:
    tags = with_targets(investigation=investigation,
                        items=tag_list(investigation=investigation).filter(seen_on__isnull=False))
    return [
        _event("world", "tag", tag.seen_on, None, f"{tag.technique.external_id} {tag.technique.name}",
               detail=f"seen on {tag.described.label}" + (f": {tag.procedure}" if tag.procedure else ""),
               url=tag.described.url)
        for tag in tags
    ]


def pin_window(state: str) -> tuple[When, When | None] | None:
    """A pin's time window from its workspace state's ``from``/``to`` (either alone is a point), or None."""
    query = parse_qs(state or "")
    bounds = [_parse(query.get(name, [""])[0]) for name in ("from", "to")]
    if bounds[0] and bounds[1] and instant(_iso(bounds[1])) < instant(_iso(bounds[0])):
        return bounds[0], None  # a window that ends before it starts: keep where it starts
    return _span(bounds)


def _pin_events(investigation: Investigation) -> list[dict]:
    events = []
    for pin in Pin.objects.filter(investigation=investigation).only("id", "caption", "state").order_by("id"):
        window = pin_window(pin.state)
        if window:
            events.append(_event("world", "pin", *window, pin.caption, detail="the pinned view's time window",
                                 url=reverse("pin-open", args=[pin.pk])))
    return events


def _analysis_events(investigation: Investigation) -> list[dict]:
    analyses = (Analysis.objects.filter(investigation=investigation, kind="coordination")
                .select_related("collection").only("id", "kind", "params", "summary", "collection__name")
                .order_by("id"))
    events = []
    for analysis in analyses:
        when = _parse((analysis.params or {}).get("event_date"))
        if when:
            collection = f" of “{analysis.collection.name}”" if analysis.collection else ""
            events.append(_event("world", "analysis", when, None, f"Event date of {analysis.title} #{analysis.pk}",
                                 detail=f"the network{collection} is split before and after this date",
                                 url=reverse("analysis-detail", args=[analysis.pk])))
    return events


def _story_events(investigation: Investigation) -> list[dict]:
    """Each storyline step with a date, numbered in the storyline's order: a pin's window; a note's tags'
    ``seen_on`` days and, for a note on a post, the post's time."""
    items = storyline_get(investigation=investigation)
    note_dates = _note_dates(investigation, [item.note for item in items if item.note is not None])
    url = reverse("storyline", args=[investigation.pk])
    events = []
    for step, item in enumerate(items, start=1):
        if item.pin is not None:
            span, what = pin_window(item.pin.state), item.pin.caption
        else:
            span, what = _span(note_dates.get(item.note_id, [])), f"note #{item.note_id}: {item.note.body}"
        if span:
            events.append(_event("world", "story", *span, f"Step {step}: {what}", detail=item.text,
                                 url=f"{url}#item-{item.pk}"))
    return events


def _note_dates(investigation: Investigation, notes: list[Note]) -> dict[int, list[When]]:
    dates: dict[int, list[When]] = {note.pk: [] for note in notes}
    tags = TechniqueTag.objects.filter(investigation=investigation, note__in=dates, seen_on__isnull=False)
    for note_id, seen_on in tags.values_list("note_id", "seen_on"):
        dates[note_id].append(seen_on)
    on_posts = {note.target_ref.get("post"): note.pk for note in notes if note.target_type == "post"}
    posts = Post.objects.filter(pk__in=[p for p in on_posts if p], collection__investigation=investigation,
                                time__isnull=False)
    for post_id, time in posts.values_list("id", "time"):
        dates[on_posts[post_id]].append(time)
    return dates


# In the case ----------------------------------------------------------------------------------------------


def _audit_events(investigation: Investigation) -> list[dict]:
    entries = list(AuditEntry.objects.filter(investigation=investigation).order_by("at", "id")
                   .values_list("at", "actor_name", "action", "object_type", "object_id", "summary"))
    wanted: dict[str, set[int]] = {}
    for *_, object_type, object_id, _summary in entries:
        if object_type and object_id is not None:
            wanted.setdefault(object_type, set()).add(object_id)
    urls = _object_urls(investigation, wanted)
    return [
        _event("case", action.split(".")[0], at, None, summary,
               detail=action + (f" · {object_type} #{object_id}" if object_type and object_id is not None else ""),
               url=urls.get((object_type, object_id)), actor=actor or None)
        for at, actor, action, object_type, object_id, summary in entries
    ]


def _object_urls(investigation: Investigation, wanted: dict[str, set[int]]) -> dict[tuple[str, int], str]:
    """``{(object_type, id): url}`` for the audited objects that still exist in the investigation: one query
    per type (per IDS_PER_QUERY ids), none for a type without a page."""
    urls = {}
    for object_type, ids in wanted.items():
        link = _LINKS.get(object_type)
        for chunk in _chunks(sorted(ids)) if link else ():
            urls.update({(object_type, pk): url for pk, url in link(investigation, chunk).items()})
    return urls


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    it = iter(ids)
    while chunk := list(islice(it, IDS_PER_QUERY)):
        yield chunk


def _pages(model, name: str, via: str = "investigation") -> Callable[[Investigation, list[int]], dict[int, str]]:
    def link(investigation, ids):
        found = model.objects.filter(pk__in=ids, **{via: investigation}).values_list("pk", flat=True)
        return {pk: reverse(name, args=[pk]) for pk in found}
    return link


def _investigation_link(investigation, ids):
    pk = investigation.pk
    return {pk: reverse("investigation-detail", args=[pk])} if pk in ids else {}


def _note_links(investigation, ids):
    base = reverse("note-list", args=[investigation.pk])
    found = Note.objects.filter(pk__in=ids, investigation=investigation).values_list("pk", flat=True)
    return {pk: f"{base}#note-{pk}" for pk in found}


def _tag_links(investigation, ids):
    found = TechniqueTag.objects.filter(pk__in=ids, investigation=investigation).values_list("pk", flat=True)
    return dict.fromkeys(found, reverse("disarm", args=[investigation.pk]))


def _post_links(investigation, ids):
    posts = Post.objects.filter(pk__in=ids, collection__investigation=investigation)
    return {pk: reverse("collection-posts", args=[collection]) + f"?account={account}#post-{pk}"
            for pk, collection, account in posts.values_list("pk", "collection_id", "account_id")}


# Audited objects by ``object_type`` (their model's name); a membership, a triage decision... has no page.
_LINKS = {
    "investigation": _investigation_link,
    "collection": _pages(Collection, "collection-detail"),
    "job": _pages(Job, "job-detail"),
    "analysis": _pages(Analysis, "analysis-detail"),
    "textmodel": _pages(TextModel, "text-model-detail"),
    "pin": _pages(Pin, "pin-open"),
    "triagequeue": _pages(TriageQueue, "triage-queue"),
    "note": _note_links,
    "techniquetag": _tag_links,
    "post": _post_links,
}


# The chart ------------------------------------------------------------------------------------------------

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#17becf", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22")  # D3's category10: neighbours stay apart
BAND = 0.7  # of a lane's height, shared by its kinds of ranges so that none hides another


def timeline_figure(events: list[dict]) -> dict:
    """The Plotly figure: one row per lane (the world above the case), ranges as horizontal bars (each kind of
    range in its own band of the row: a pin's window and its storyline step would otherwise hide each other),
    points as markers (diamonds in the world, circles in the case), one colour and legend entry per kind. Each
    mark's ``customdata`` is its event's index in ``events`` (the table's row ``event-<index>``); hover text is
    escaped (Plotly reads tags in it)."""
    kinds = timeline_kinds(events)
    colours = {kind: PALETTE[i % len(PALETTE)] for i, kind in enumerate(kinds)}
    ranged = [kind for kind in kinds if any(e["end"] and e["kind"] == kind for e in events)]
    band = BAND / max(len(ranged), 1)
    data = []
    for kind in kinds:
        indexed = [(i, e) for i, e in enumerate(events) if e["kind"] == kind]
        ranges = [(i, e) for i, e in indexed if e["end"]]
        points = [(i, e) for i, e in indexed if not e["end"]]
        common = {"name": kind, "legendgroup": kind, "hoverinfo": "text"}
        if ranges:
            data.append({
                **common, "type": "bar", "orientation": "h",
                "width": band, "offset": BAND / 2 - band * (1 + ranged.index(kind)),  # the kind's band, top down
                "base": [_plot_time(e["start"]) for _, e in ranges],
                "x": [(instant(e["end"]) - instant(e["start"])).total_seconds() * 1000 for _, e in ranges],
                "y": [LANE_LABELS[e["lane"]] for _, e in ranges],
                "customdata": [i for i, _ in ranges], "hovertext": [_hover(e) for _, e in ranges],
                "marker": {"color": colours[kind], "opacity": 0.75},
            })
        if points:
            data.append({
                **common, "type": "scatter", "mode": "markers", "showlegend": not ranges,
                "x": [_plot_time(e["start"]) for _, e in points],
                "y": [LANE_LABELS[e["lane"]] for _, e in points],
                "customdata": [i for i, _ in points], "hovertext": [_hover(e) for _, e in points],
                "marker": {"color": colours[kind], "size": 11, "line": {"width": 1, "color": "#ffffff"},
                           "symbol": ["diamond" if e["lane"] == "world" else "circle" for _, e in points]},
            })
    return {"data": data, "layout": _layout()}


def _layout() -> dict:
    return {
        "barmode": "overlay",
        "height": 320,
        "margin": {"l": 100, "r": 20, "t": 10, "b": 40},
        "xaxis": {"type": "date", "title": {"text": "UTC"}},
        "yaxis": {"type": "category", "categoryorder": "array", "categoryarray": [LANE_LABELS["case"],
                  LANE_LABELS["world"]], "range": [-0.6, 1.6], "fixedrange": True},
        "legend": {"orientation": "h", "y": -0.25},
        "hovermode": "closest",
    }


def _plot_time(iso: str) -> str:
    """Plotly reads "YYYY-MM-DD HH:MM:SS" and ignores offsets: hand it UTC without one."""
    if len(iso) == 10:
        return iso
    return instant(iso).strftime("%Y-%m-%d %H:%M:%S.%f")


def _hover(event: dict) -> str:
    when = display_when(event)
    lines = [event["title"], event["detail"], f"{when}" + (f" · {event['actor']}" if event["actor"] else "")]
    return "<br>".join(html.escape(line[:300]) for line in lines if line)


def display_when(event: dict) -> str:
    """What the table and the hover text show: "2024-03-16 09:30" (or a day alone), then "→ end" for a range."""
    def short(iso: str) -> str:
        return iso if len(iso) == 10 else instant(iso).strftime("%Y-%m-%d %H:%M")
    return short(event["start"]) + (f" → {short(event['end'])}" if event["end"] else "")
