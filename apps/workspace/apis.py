"""The workspace's JSON API (read only): the posts table, the timeline, the account and post panels, the stored
networks. Every route answers members of the investigation (any role) and 404 to anyone else; a bad query
parameter is a 400 naming it, ``{"<param>": ["sentence"]}``, with every bad parameter at once."""
from __future__ import annotations

import math
import re
from datetime import datetime

from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.analyses.kinds.network import SCALE_MAX, network_at_scale
from apps.analyses.selectors import analysis_get
from apps.common.ids import as_id
from apps.investigations.selectors import investigation_get
from apps.workspace import selectors
from apps.workspace.selectors import IDS_MAX, PAGE_DEFAULT, PAGE_MAX, SORTS, PostFilters

TEXT_MAX = 500
LABEL_KEY = re.compile(r"^[\w .-]{1,100}$")
SPACED_OFFSET = re.compile(r"^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d(?::?\d\d)?)$")
FILTER_PARAMS = ("collection", "accounts", "community", "entity", "q", "label", "score", "min_score")


# Query strings ------------------------------------------------------------------------------------


class Query:
    """Reads a query string's parameters, collecting one sentence per bad parameter; ``check`` raises them all
    as one ValidationError (a 400 through ``apps.common.apis``). Blank parameters count as absent."""

    def __init__(self, params):
        self.params, self.errors = params, {}

    def raw(self, name: str) -> str:
        return (self.params.get(name) or "").strip()

    def fail(self, name: str, sentence: str) -> None:
        self.errors.setdefault(name, [sentence])

    def check(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)

    def id(self, name: str) -> int | None:
        raw = self.raw(name)
        if raw and as_id(raw) is None:
            self.fail(name, f"{name}={_shown(raw)} is not an id (a whole number from 1).")
        return as_id(raw) if raw else None

    def ids(self, name: str) -> tuple[int, ...] | None:
        raw = self.raw(name)
        if not raw:
            return None
        items = [v.strip() for v in raw.split(",") if v.strip()]
        if len(items) > IDS_MAX:
            self.fail(name, f"{name} takes at most {IDS_MAX:,} ids; got {len(items):,}.")
            return None
        bad = [v for v in items if as_id(v) is None]
        if bad or not items:
            self.fail(name, f"{name} must be comma-separated ids; not {_shown(', '.join(bad[:5]) or raw)}.")
            return None
        return tuple(dict.fromkeys(as_id(v) for v in items))

    def time(self, name: str) -> datetime | None:
        raw = self.raw(name)
        if not raw:
            return None
        # A "+" of an offset arrives as a space when the client did not encode it ("...T09:30:00 02:00").
        raw = SPACED_OFFSET.sub(r"\1+\2", raw)
        try:
            return selectors.utc(datetime.fromisoformat(raw))
        except (ValueError, OverflowError):
            self.fail(name, f"{name} must be an ISO-8601 time like 2024-03-16T09:30:00 (UTC unless it says); "
                            f"got {_shown(raw)}.")
            return None

    def text(self, name: str, *, max_length: int = TEXT_MAX) -> str:
        raw = self.raw(name)
        if "\x00" in raw:
            self.fail(name, f"{name} must not hold a NUL character.")
            return ""
        if len(raw) > max_length:
            self.fail(name, f"{name} must be at most {max_length:,} characters; got {len(raw):,}.")
            return ""
        return raw

    def number(self, name: str) -> float | None:
        raw = self.raw(name)
        if not raw:
            return None
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            self.fail(name, f"{name} must be a number; got {_shown(raw)}.")
            return None
        return value

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        raw = self.raw(name) or default
        if raw not in choices:
            self.fail(name, f"{name} must be one of {', '.join(choices)}; got {_shown(raw)}.")
            return default
        return raw

    def whole(self, name: str, *, default: int, low: int, high: int) -> int:
        raw = self.raw(name)
        if not raw:
            return default
        if not (raw.isascii() and raw.isdigit() and low <= int(raw) <= high):
            self.fail(name, f"{name} must be a whole number from {low} to {high}; got {_shown(raw)}.")
            return default
        return int(raw)


def _shown(raw: str) -> str:
    return repr(raw[:40] + ("…" if len(raw) > 40 else ""))


def post_filters(query: Query, investigation) -> PostFilters:
    """The filters of the posts table and the timeline, each id looked up inside the investigation."""
    collection_id = query.id("collection")
    collection = collection_id and selectors.collection_of(investigation=investigation, collection_id=collection_id)
    if collection is None and "collection" not in query.errors:
        query.fail("collection", "collection must be the id of a collection of this investigation"
                                 + (f"; there is no collection {collection_id} here." if collection_id else "."))
    accounts = query.ids("accounts")
    entity = query.ids("entity")
    community_kind, members = _community(query, investigation)
    score_id = query.id("score")
    score = selectors.score_analysis_of(investigation=investigation, analysis_id=score_id) if score_id else None
    if score_id and score is None:
        query.fail("score", f"score must be the id of a score analysis of this investigation; not {score_id}.")
    min_score = query.number("min_score")
    if min_score is not None and not score_id:
        query.fail("min_score", "min_score needs score (the score analysis to read).")
    label = _label(query)
    q = query.text("q")
    start, end = query.time("from"), query.time("to")
    if start and end and end <= start:
        query.fail("to", "to must be after from.")
    query.check()
    account_set = frozenset(accounts) if accounts is not None else None
    if community_kind == "account":
        account_set = frozenset(members) if account_set is None else account_set & frozenset(members)
    entity_sets = tuple(s for s in (entity, members if community_kind == "entity" else None) if s is not None)
    narrowing = tuple(p for p in FILTER_PARAMS[1:] if query.raw(p))
    return selectors.post_filters_build(collection=collection, accounts=account_set, entity_sets=entity_sets,
                                        start=start, end=end, q=q, label=label, score=score, min_score=min_score,
                                        narrowing=narrowing)


def _community(query: Query, investigation) -> tuple[str | None, tuple[int, ...]]:
    """``community=<analysis id>:<n>``: ("account" | "entity", the community's ids), or (None, ())."""
    raw = query.raw("community")
    if not raw:
        return None, ()
    analysis_part, _, number = raw.partition(":")
    analysis_id = as_id(analysis_part)
    if analysis_id is None or not re.fullmatch(r"-?[0-9]{1,9}", number.strip()):
        query.fail("community", f"community must be <analysis id>:<community number>, e.g. 12:3; got {_shown(raw)}.")
        return None, ()
    analysis = selectors.network_of(investigation=investigation, analysis_id=analysis_id)
    if analysis is None:
        query.fail("community", f"community: no stored network {analysis_id} in this investigation.")
        return None, ()
    try:
        return selectors.community_members(analysis=analysis, community=int(number))
    except ValidationError as exc:
        query.fail("community", exc.message_dict["community"][0])
        return None, ()


def _label(query: Query) -> tuple[str, str] | None:
    raw = query.text("label")
    if not raw:
        return None
    key, sep, value = raw.partition(":")
    if not sep or not LABEL_KEY.match(key.strip()) or "__" in key:
        query.fail("label", f"label must be key:value, a label name then its value (e.g. veracity:false); "
                            f"got {_shown(raw)}.")
        return None
    return key.strip(), value.strip()


# Outputs ------------------------------------------------------------------------------------------


class WorkspaceAccountRef(serializers.Serializer):
    id = serializers.IntegerField()
    handle = serializers.CharField()


class WorkspacePostRowOutput(serializers.Serializer):
    id = serializers.IntegerField()
    platform_id = serializers.CharField()
    time = serializers.DateTimeField(allow_null=True)
    text = serializers.CharField()
    kind = serializers.CharField()
    account = WorkspaceAccountRef()
    labels = serializers.JSONField()
    score = serializers.FloatField(allow_null=True, help_text="with ?score=: the post's score there")
    unreliable = serializers.BooleanField(
        allow_null=True, help_text="with ?score=: beyond the model's training range (null: no range measured)"
    )


class WorkspacePostPageOutput(serializers.Serializer):
    results = WorkspacePostRowOutput(many=True)
    next = serializers.CharField(allow_null=True, help_text="the cursor of the next page; null on the last")
    count = serializers.IntegerField(
        allow_null=True, help_text=f"exact up to {selectors.COUNT_CAP:,}; first page only (null after a cursor)"
    )
    count_capped = serializers.BooleanField(allow_null=True,
                                            help_text=f"true when more than {selectors.COUNT_CAP:,} posts match")


class WorkspaceTimelineOutput(serializers.Serializer):
    bin = serializers.ChoiceField(choices=["day", "hour"])
    all = serializers.ListField(child=serializers.ListField(), help_text="[[bin start (UTC ISO), posts], ...]")
    selected = serializers.ListField(child=serializers.ListField(), allow_null=True,
                                     help_text="the same for the filtered posts; null when no filter narrows")


class WorkspaceNoteRef(serializers.Serializer):
    id = serializers.IntegerField()
    html = serializers.CharField(help_text="the note's Markdown as sanitised HTML")
    author = serializers.CharField(allow_null=True)
    updated_at = serializers.DateTimeField()


class WorkspaceAccountScoreOutput(serializers.Serializer):
    analysis = serializers.IntegerField()
    title = serializers.CharField()
    mean = serializers.FloatField()
    max = serializers.FloatField()
    posts = serializers.IntegerField()


class WorkspaceAccountCommunityOutput(serializers.Serializer):
    analysis = serializers.IntegerField()
    title = serializers.CharField()
    kind = serializers.CharField()
    community = serializers.IntegerField()
    size = serializers.IntegerField()


class WorkspaceAccountTagOutput(serializers.Serializer):
    id = serializers.IntegerField()
    technique = serializers.CharField()
    name = serializers.CharField()
    seen_on = serializers.DateField(allow_null=True)
    procedure = serializers.CharField()


class WorkspaceCollectionRef(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class WorkspaceAuthorshipPostOutput(serializers.Serializer):
    text = serializers.CharField()
    probability = serializers.FloatField()


class WorkspaceAccountAuthorshipOutput(serializers.Serializer):
    analysis = serializers.IntegerField()
    title = serializers.CharField()
    test_accuracy = serializers.FloatField(allow_null=True, help_text="time-ordered held-out accuracy")
    checked = serializers.IntegerField(help_text="the account's own posts ranked")
    outliers = serializers.IntegerField(help_text="of those, the ones its model calls unlike the account (p < 0.5)")
    least_like = WorkspaceAuthorshipPostOutput(many=True)
    url = serializers.CharField()


class WorkspaceHybridSignalOutput(serializers.Serializer):
    signal = serializers.CharField()
    label = serializers.CharField()
    value = serializers.FloatField(allow_null=True, help_text="the account's value (null: missing, imputed)")
    contribution = serializers.FloatField(help_text="coefficient × standardised value, in log-odds")


class WorkspaceAccountHybridOutput(serializers.Serializer):
    analysis = serializers.IntegerField()
    probability = serializers.FloatField()
    logit = serializers.FloatField(help_text="intercept + the sum of the contributions")
    intercept = serializers.FloatField()
    split = serializers.CharField(help_text="the account's split in that analysis (train-1, train-2 or test)")
    signals = WorkspaceHybridSignalOutput(many=True, help_text="largest effect first")


class WorkspaceAccountOutput(serializers.Serializer):
    id = serializers.IntegerField()
    platform_id = serializers.CharField()
    handle = serializers.CharField()
    display_name = serializers.CharField()
    labels = serializers.JSONField()
    followers = serializers.IntegerField(allow_null=True)
    following = serializers.IntegerField(allow_null=True)
    created = serializers.DateTimeField(allow_null=True)
    placeholder = serializers.BooleanField()
    collection = WorkspaceCollectionRef()
    posts = serializers.IntegerField()
    first_post = serializers.DateTimeField(allow_null=True)
    last_post = serializers.DateTimeField(allow_null=True)
    scores = WorkspaceAccountScoreOutput(many=True)
    communities = WorkspaceAccountCommunityOutput(many=True)
    authorship = WorkspaceAccountAuthorshipOutput(many=True)
    hybrid = WorkspaceAccountHybridOutput(allow_null=True, help_text="the latest hybrid analysis that scored it")
    notes = WorkspaceNoteRef(many=True)
    tags = WorkspaceAccountTagOutput(many=True)


class WorkspaceEntityRef(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    value = serializers.CharField()


class WorkspacePostScoreRef(serializers.Serializer):
    analysis = serializers.IntegerField()
    title = serializers.CharField()
    score = serializers.FloatField()
    unreliable = serializers.BooleanField(allow_null=True, help_text="beyond the model's training range")
    attention_url = serializers.CharField(allow_null=True, help_text="the text model's page for this post")


class WorkspacePostOutput(serializers.Serializer):
    id = serializers.IntegerField()
    platform_id = serializers.CharField()
    time = serializers.DateTimeField(allow_null=True)
    text = serializers.CharField()
    kind = serializers.CharField()
    language = serializers.CharField()
    labels = serializers.JSONField()
    account = WorkspaceAccountRef()
    entities = WorkspaceEntityRef(many=True)
    scores = WorkspacePostScoreRef(many=True)
    notes = WorkspaceNoteRef(many=True)


class WorkspaceNetworkListOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    collection = serializers.IntegerField(allow_null=True)
    nodes = serializers.IntegerField(allow_null=True, help_text="nodes drawn")
    edges = serializers.IntegerField(allow_null=True, help_text="edges found (the drawing keeps the strongest)")
    created_at = serializers.DateTimeField()


class WorkspaceNetworkOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    collection = serializers.IntegerField(allow_null=True)
    directed = serializers.BooleanField()
    prefix = serializers.CharField(help_text='"@" for accounts, "#" for hashtags')
    noun = serializers.CharField()
    node_type = serializers.ChoiceField(choices=["account", "entity"])
    nodes = serializers.ListField(
        child=serializers.JSONField(), help_text='{"id", "handle", "x", "y", "community", ...}; hashtags add "entity"'
    )
    edges = serializers.ListField(child=serializers.JSONField(), help_text='{"source", "target", "weight", ...}')
    scales = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="coordination: the bin sizes (seconds) it ran"
    )
    scale = serializers.IntegerField(required=False, help_text="coordination: the bin size of this network")


class WorkspaceNetworkActiveOutput(serializers.Serializer):
    active = serializers.ListField(child=serializers.JSONField(), help_text="ids of the nodes that acted in [from, to)")


# Routes -------------------------------------------------------------------------------------------

FILTERS_SCHEMA = [
    OpenApiParameter("collection", int, required=True, description="a collection of this investigation"),
    OpenApiParameter("accounts", str, description=f"comma-separated account ids (at most {IDS_MAX:,})"),
    OpenApiParameter("community", str, description="<analysis id>:<community number> of a stored network"),
    OpenApiParameter("entity", str, description="comma-separated entity ids: posts using one of them"),
    OpenApiParameter("q", str, description="text contains (any case)"),
    OpenApiParameter("label", str, description="key:value of the post's labels"),
    OpenApiParameter("score", int, description="a score analysis: adds each post's score, lists scored posts only"),
    OpenApiParameter("min_score", float, description="with score: posts scored at least this"),
]
WINDOW_SCHEMA = [
    OpenApiParameter("from", OpenApiTypes.DATETIME, description="inclusive; ISO-8601, UTC unless it says"),
    OpenApiParameter("to", OpenApiTypes.DATETIME, description="exclusive"),
]
PAGE_SCHEMA = [
    OpenApiParameter("sort", str, enum=SORTS, description="score sorts need score (default time)"),
    OpenApiParameter("cursor", str, description="a previous page's next"),
    OpenApiParameter("limit", int, description=f"rows per page, 1 to {PAGE_MAX} (default {PAGE_DEFAULT})"),
]


class PostListApi(APIView):
    """The posts table: keyset pages of the collection's posts, filtered, sorted by time or by score."""

    @extend_schema(parameters=FILTERS_SCHEMA + WINDOW_SCHEMA + PAGE_SCHEMA, responses=WorkspacePostPageOutput)
    def get(self, request, pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk)
        query = Query(request.query_params)
        sort = query.choice("sort", SORTS, "time")
        limit = query.whole("limit", default=PAGE_DEFAULT, low=1, high=PAGE_MAX)
        cursor = query.text("cursor", max_length=1_000)
        filters = post_filters(query, investigation)
        if sort in ("score", "-score") and filters.score is None:
            query.fail("sort", f"sort={sort} needs score (the score analysis to sort by).")
        query.check()
        page = selectors.post_page(filters=filters, sort=sort, cursor=cursor or None, limit=limit)
        return Response(WorkspacePostPageOutput(page).data)


class TimelineApi(APIView):
    """Posts per day (per hour when the collection spans at most three days): all of them and the filtered ones."""

    @extend_schema(parameters=FILTERS_SCHEMA, responses=WorkspaceTimelineOutput)
    def get(self, request, pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk)
        query = Query({k: v for k, v in request.query_params.items() if k not in ("from", "to")})
        filters = post_filters(query, investigation)
        return Response(WorkspaceTimelineOutput(selectors.post_timeline(filters=filters)).data)


class AccountApi(APIView):
    """The account panel."""

    @extend_schema(responses=WorkspaceAccountOutput)
    def get(self, request, pk: int, account_pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk)
        account = selectors.account_detail(investigation=investigation, account_id=account_pk)
        if account is None:
            raise Http404("No such account in this investigation")
        return Response(WorkspaceAccountOutput(account).data)


class PostApi(APIView):
    """The post panel."""

    @extend_schema(responses=WorkspacePostOutput, operation_id="investigations_workspace_post_retrieve")
    def get(self, request, pk: int, post_pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk)
        post = selectors.post_detail(investigation=investigation, post_id=post_pk)
        if post is None:
            raise Http404("No such post in this investigation")
        return Response(WorkspacePostOutput(post).data)


class NetworkListApi(APIView):
    """The investigation's stored networks (coordination, co-action, retweet, hashtag), newest first."""

    @extend_schema(responses=WorkspaceNetworkListOutput(many=True))
    def get(self, request, pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk)
        return Response(WorkspaceNetworkListOutput(selectors.network_list(investigation=investigation), many=True).data)


class NetworkApi(APIView):
    """A stored network for drawing: what its analysis page draws, plus how to name and select its nodes;
    ``scale`` picks one of a multi-scale coordination's networks (default: the suggested one)."""

    @extend_schema(
        parameters=[OpenApiParameter("scale", int, description="coordination: a bin size (seconds) the run covered")],
        responses=WorkspaceNetworkOutput,
    )
    def get(self, request, pk: int):
        analysis = analysis_get(user=request.user, analysis_id=pk)
        query = Query(request.query_params)
        scale = query.whole("scale", default=0, low=1, high=SCALE_MAX)
        query.check()
        return Response(selectors.network_drawing(analysis=network_at_scale(analysis, scale or None)))


class NetworkActiveApi(APIView):
    """The nodes of a stored network that acted (posted, or were used) in [from, to)."""

    @extend_schema(parameters=WINDOW_SCHEMA, responses=WorkspaceNetworkActiveOutput)
    def get(self, request, pk: int):
        analysis = analysis_get(user=request.user, analysis_id=pk)
        query = Query(request.query_params)
        start, end = query.time("from"), query.time("to")
        if start and end and end <= start:
            query.fail("to", "to must be after from.")
        query.check()
        return Response({"active": selectors.network_active(analysis=analysis, start=start, end=end)})
