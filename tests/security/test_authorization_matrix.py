"""Every route, from the URL resolver and the OpenAPI schema, for every persona and every method it
accepts, against a real investigation: Mallory (no member) gets 404 as if nothing existed, anonymous
visitors are sent to log in (401/403 on the API), Carol (viewer) reads but cannot write, Bob (editor)
starts and cancels, Alice (owner) deletes.

ROUTES is the table of expectations: a route missing from it fails the test, so whoever adds a route
says who may use it. Writes run in a rolled-back savepoint, so one persona's delete does not remove
the next persona's object; nothing is enqueued (on_commit never fires) and no job runs.
"""
from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, get_resolver
from django.utils import timezone

from apps.analyses.models import Analysis, TextModel
from apps.collections.models import Account, Collection, ImportFile, Post, RejectedRow
from apps.jobs.models import Job
from apps.notes.models import DisarmTechnique, Note, TechniqueTag
from apps.pins.services import pin_create
from apps.triage.models import TriageQueue
from tests.pins.conftest import png
from tests.reports.conftest import stored_report

pytestmark = pytest.mark.django_db

V, E, OWNER, PUBLIC = "viewer", "editor", "owner", "public"
LEVEL = {None: 0, V: 1, E: 2, OWNER: 3}
PERSONAS = {"anonymous": None, "mallory": None, "carol": V, "bob": E, "alice": OWNER}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
SCHEMA_ONLY = {"HEAD", "OPTIONS", "TRACE"}
MAY_404 = "may_404"  # a member may also get 404: the object is not of the route's kind, or has no weights

# route name: (object for <pk>, {method: least role}, flags). Objects are built in `world` below.
ROUTES = {
    "api-investigation-list": (None, {"GET": PUBLIC, "POST": PUBLIC}, ()),  # lists and creates the caller's own
    "api-investigation-detail": ("inv", {"GET": V, "DELETE": OWNER}, ()),
    "api-member-list": ("inv", {"GET": V, "POST": OWNER}, ()),
    "api-member-detail": ("inv", {"DELETE": OWNER}, ()),
    "api-collection-list": ("inv", {"GET": V}, ()),
    "api-import-start": ("inv", {"POST": E}, ()),
    "api-collection-detail": ("col", {"GET": V, "DELETE": OWNER}, ()),
    "api-post-list": ("col", {"GET": V}, ()),
    "api-account-list": ("col", {"GET": V}, ()),
    "api-import-file-list": ("col", {"GET": V}, ()),
    "api-rejected-row-list": ("file", {"GET": V}, ()),
    "api-job-list": ("inv", {"GET": V}, ()),
    "api-job-detail": ("failed", {"GET": V}, ()),
    "api-job-cancel": ("running", {"POST": E}, ()),
    "api-job-retry": ("failed", {"POST": E}, ()),
    "api-analysis-list": ("inv", {"GET": V}, ()),
    "api-analysis-start": ("inv", {"POST": E}, ()),
    "api-analysis-detail": ("auth", {"GET": V}, ()),
    "api-analysis-post-scores": ("score", {"GET": V}, ()),
    "api-analysis-points": ("auth", {"GET": V}, (MAY_404,)),  # an embedding map's points: 404 for other kinds
    "api-text-model-list": ("inv", {"GET": V}, ()),
    "api-text-model-detail": ("clf", {"GET": V, "DELETE": E}, ()),
    "investigation-list": (None, {"GET": PUBLIC, "POST": PUBLIC}, ()),  # anyone logged in creates one
    "investigation-detail": ("inv", {"GET": V}, ()),
    "member-set": ("inv", {"POST": OWNER}, ()),
    "member-remove": ("inv", {"POST": OWNER}, ()),
    "investigation-delete": ("inv", {"GET": OWNER, "POST": OWNER}, ()),
    "collection-upload": ("inv", {"GET": E, "POST": E}, ()),
    "upload-preview": ("inv", {"POST": E}, ()),
    "collection-detail": ("col", {"GET": V}, ()),
    "collection-posts": ("col", {"GET": V}, ()),
    "import-file-rejected": ("file", {"GET": V}, ()),
    "job-list": ("inv", {"GET": V}, ()),
    "job-detail": ("failed", {"GET": V}, ()),
    "job-cancel": ("running", {"POST": E}, ()),
    "job-retry": ("failed", {"POST": E}, ()),
    "analysis-detail": ("auth", {"GET": V}, ()),
    "analysis-score": ("auth", {"POST": V}, ()),  # scoring pasted text reads, it stores nothing
    "authorship-start": ("col", {"GET": E, "POST": E}, ()),
    "analysis-evidence": ("net", {"GET": V}, ()),
    "analysis-export": ("net", {"GET": V}, ()),
    "coordination-start": ("col", {"GET": E, "POST": E}, ()),
    "coaction-start": ("col", {"GET": E, "POST": E}, ()),
    "propagation-start": ("col", {"GET": E, "POST": E}, ()),
    "retweet-network-start": ("col", {"GET": E, "POST": E}, ()),
    "hashtag-network-start": ("col", {"GET": E, "POST": E}, ()),
    "embedding-map-start": ("col", {"GET": E, "POST": E}, ()),
    "behaviour-start": ("col", {"GET": E, "POST": E}, ()),
    "analysis-timeline": ("net", {"GET": V}, (MAY_404,)),
    "train-classifier-start": ("col", {"GET": E, "POST": E}, ()),
    "text-model-detail": ("clf", {"GET": V}, ()),
    "text-model-delete": ("clf", {"POST": E}, ()),
    "text-model-score": ("clf", {"GET": E, "POST": E}, ()),
    "text-model-attention": ("clf", {"GET": V}, (MAY_404,)),
    "text-model-post": ("clf", {"GET": V}, (MAY_404,)),
    "text-model-post-bertviz": ("clf", {"GET": V}, (MAY_404,)),
    "analysis-post-scores-csv": ("score", {"GET": V}, ()),
    "train-lm-start": ("col", {"GET": E, "POST": E}, ()),
    "perplexity-matrix-start": ("inv", {"GET": E, "POST": E}, ()),
    "lm-detail": ("lm", {"GET": V}, ()),
    "api-note-list": ("inv", {"GET": V, "POST": E}, ()),
    "api-note-detail": ("note", {"GET": V, "PATCH": E, "DELETE": E}, ()),
    "api-tag-list": ("inv", {"GET": V, "POST": E}, ()),
    "api-tag-detail": ("tag", {"GET": V, "DELETE": E}, ()),
    "api-disarm": ("inv", {"GET": V}, ()),
    "note-list": ("inv", {"GET": V, "POST": E}, ()),
    "note-edit": ("note", {"GET": E, "POST": E}, ()),
    "note-delete": ("note", {"POST": E}, ()),
    "tag-add": ("inv", {"POST": E}, ()),
    "tag-remove": ("tag", {"POST": E}, ()),
    "disarm": ("inv", {"GET": V}, ()),
    "audit-list": ("inv", {"GET": V}, ()),
    "audit-csv": ("inv", {"GET": V}, ()),
    "api-audit-list": ("inv", {"GET": V}, ()),
    "case-timeline": ("inv", {"GET": V}, ()),
    "api-case-timeline": ("inv", {"GET": V}, ()),
    "api-workspace-posts": ("inv", {"GET": V}, ()),  # 400 without ?collection=: still past the access check
    "api-workspace-post": ("inv", {"GET": V}, ()),
    "api-workspace-timeline": ("inv", {"GET": V}, ()),
    "api-workspace-account": ("inv", {"GET": V}, ()),
    "api-workspace-networks": ("inv", {"GET": V}, ()),
    "api-analysis-network": ("net", {"GET": V}, ()),
    "api-analysis-network-active": ("net", {"GET": V}, ()),
    "workspace": ("inv", {"GET": V}, ()),
    "api-pin-list": ("inv", {"GET": V, "POST": E}, ()),
    "api-pin-detail": ("pin", {"GET": V, "PATCH": E, "DELETE": E}, ()),
    "api-storyline": ("inv", {"GET": V, "PUT": E}, ()),
    "api-workspace-layout": ("inv", {"GET": V, "PUT": V}, ()),  # each member's own view, not case data
    "storyline": ("inv", {"GET": V, "POST": E}, ()),
    "pin-open": ("pin", {"GET": V}, ()),
    "pin-thumbnail": ("pin", {"GET": V}, ()),
    "pin-edit": ("pin", {"POST": E}, ()),
    "pin-delete": ("pin", {"POST": E}, ()),
    "api-triage-next": ("triage", {"GET": V}, ()),
    "api-triage-decisions": ("triage", {"POST": E}, ()),
    "api-triage-undo": ("triage", {"POST": E}, ()),
    "triage-list": ("inv", {"GET": V}, ()),
    "triage-create": ("inv", {"GET": E, "POST": E}, ()),
    "triage-queue": ("triage", {"GET": V}, ()),
    "report-list": ("inv", {"GET": V, "POST": E}, ()),
    "report-download": ("report", {"GET": V}, ()),
    "api-report-list": ("inv", {"GET": V, "POST": E}, ()),
    "api-report-detail": ("report", {"GET": V}, ()),
    "api-triage-rounds": ("triage", {"GET": V}, ()),
    "api-triage-retrain": ("triage", {"POST": E}, ()),
    "api-triage-disagreements": ("triage", {"GET": V}, ()),
    "api-triage-resolutions": ("triage", {"POST": E}, ()),
    "triage-disagreements": ("triage", {"GET": V, "POST": E}, ()),
    "api-analysis-network-binary": ("net", {"GET": V}, ()),  # typed arrays of a stored network (graph-gl.js)
    "hybrid-start": ("col", {"GET": E, "POST": E}, ()),
}
# Not an investigation's: the login pages, the public plotly.js asset, the schema (any logged-in user)
# and Django's admin (staff only, its own checks).
OUTSIDE = {"login", "logout", "plotly-js", "api-schema", "api-docs"}
EXTRA_KWARGS = {"username": "carol", "post_pk": "post", "account_pk": "account", "fmt": "csv", "view": "head"}


def walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace != "admin":
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield pattern.name, prefix + str(pattern.pattern), pattern


def routes():
    return list(walk(get_resolver().url_patterns))


@pytest.fixture
def world(investigation, users):
    inv = investigation
    col = Collection.objects.create(investigation=inv, name="takedown")
    account = Account.objects.create(collection=col, platform_id="1", handle="green_thumb")
    post = Post.objects.create(collection=col, account=account, platform_id="p1", text="hello", time=timezone.now())
    import_file = ImportFile.objects.create(collection=col, name="a.csv", status="done")
    RejectedRow.objects.create(import_file=import_file, line=7, field="time", reason="not a date")
    failed = Job.objects.create(investigation=inv, kind="import", status="failed", params={})
    running = Job.objects.create(investigation=inv, kind="import", status="running", params={})
    done = Job.objects.create(investigation=inv, kind="analysis", status="succeeded", params={})
    from tests.analyses.test_access import RESULT

    def analysis(kind, result, params):
        job = Job.objects.create(investigation=inv, kind=f"analysis:{kind}", status="succeeded", params={})
        return Analysis.objects.create(investigation=inv, job=job, kind=kind, collection=col, created_by=users["alice"],
                                       params=params, result=result, summary={})

    auth = analysis("authorship", {**RESULT, "account_id": account.pk},
                    {"account": "green_thumb", "account_id": account.pk, "limit": 200, "max_posts": 5000,
                     "cv_folds": 5, "curves": True, "pasted": []})
    net = analysis("coaction", {"nodes": [{"id": account.pk, "handle": "green_thumb"}], "edges": []}, {})
    clf = TextModel.objects.create(investigation=inv, name="clf", kind="encoder", base_model="tiny", job=done)
    lm = TextModel.objects.create(investigation=inv, name="lm", kind="lm", base_model="tiny GPT-2", job=done)
    score = analysis("score", {}, {"model": clf.pk})
    note = Note.objects.create(investigation=inv, author=users["bob"], body="Seen **twice**.")
    technique = DisarmTechnique.objects.create(external_id="T0049", name="Flood information space")
    tag = TechniqueTag.objects.create(investigation=inv, technique=technique, target_type="note",
                                      target_ref={"note": note.pk}, note=note, created_by=users["bob"])
    pin = pin_create(investigation=inv, user=users["bob"], caption="c", state="a=1", thumbnail_png=png())
    triage = TriageQueue.objects.create(investigation=inv, collection=col, analysis=score, label_key="analyst_label",
                                        label_values=["operation", "organic"])
    report = stored_report(inv, users["bob"])
    return {"inv": inv.pk, "col": col.pk, "file": import_file.pk, "failed": failed.pk, "running": running.pk,
            "auth": auth.pk, "net": net.pk, "score": score.pk, "clf": clf.pk, "lm": lm.pk, "post": post.pk,
            "note": note.pk, "tag": tag.pk, "account": account.pk, "pin": pin.pk, "triage": triage.pk,
            "report": report.pk}


def url_of(pattern, route: str, world) -> str:
    obj = ROUTES[pattern.name][0]
    kwargs = {}
    for name in pattern.pattern.converters:
        kwargs[name] = world[obj] if name == "pk" else EXTRA_KWARGS[name]
        if kwargs[name] in ("post", "account"):
            kwargs[name] = world[kwargs[name]]
    from django.urls import reverse

    return reverse(pattern.name, kwargs=kwargs)


def request(client: Client, method: str, url: str):
    with transaction.atomic():
        response = client.generic(method, url, b"", content_type="application/x-www-form-urlencoded",
                                  HTTP_ACCEPT="text/html")
        transaction.set_rollback(True)
    return response


def allowed(least: str, persona: str) -> bool:
    if least == PUBLIC:
        return persona != "anonymous"
    return LEVEL[PERSONAS[persona]] >= LEVEL[least]


def check(name, url, method, persona, response, flags) -> str | None:
    code, api = response.status_code, url.startswith("/api/")
    to_login = code == 302 and response["Location"].startswith("/login/")
    least = ROUTES[name][1][method]
    if code >= 500:
        return f"{method} {url} as {persona}: {code}"
    if allowed(least, persona):
        ok = code not in (401, 403, 404, 405) and not to_login or (code == 404 and MAY_404 in flags)
    elif persona == "anonymous":
        ok = code in (401, 403) if api else to_login
    elif persona == "mallory" or least == PUBLIC:
        ok = code == 404
    else:
        ok = code in (403, 404)
    return None if ok else f"{method} {url} as {persona} ({PERSONAS[persona] or 'no member'}, needs {least}): {code}"


def test_every_route_is_in_the_table_of_expectations():
    names = {name for name, _, _ in routes()}
    missing = sorted(names - set(ROUTES) - OUTSIDE)
    assert not missing, f"classify these routes in ROUTES (who may use each method): {missing}"
    assert not sorted(set(ROUTES) - names), "ROUTES names routes that no longer exist"


def test_the_api_methods_in_the_table_match_the_schema():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    documented = {}
    for path, operations in schema["paths"].items():
        documented[normalise(path)] = {m.upper() for m in operations} - SCHEMA_ONLY
    for name, route, _ in routes():
        if name in ROUTES and route.startswith("api/"):
            assert set(ROUTES[name][1]) == documented[normalise("/" + route)], name


def normalise(path: str) -> str:
    import re

    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)


def test_every_persona_gets_what_the_table_says_on_every_route_and_method(world, users):
    clients = {"anonymous": Client(raise_request_exception=False)}
    for persona in ("mallory", "carol", "bob", "alice"):
        clients[persona] = Client(raise_request_exception=False)
        clients[persona].force_login(users[persona])
    failures = []
    for name, route, pattern in routes():
        if name not in ROUTES:
            continue
        url, (_, methods, flags) = url_of(pattern, route, world), ROUTES[name]
        for method in methods:
            for persona, client in clients.items():
                failures.append(check(name, url, method, persona, request(client, method, url), flags))
        for method in sorted(set(METHODS) - set(methods)):
            # The API refuses every other method; most pages answer any method as GET (no write), so
            # there only a server error fails.
            code = request(clients["alice"], method, url).status_code
            refused = code == 405 if url.startswith("/api/") else code < 500
            failures.append(None if refused else f"{method} {url} as alice: {code}, expected 405")
    failures = [f for f in failures if f]
    assert not failures, "\n".join(failures)
