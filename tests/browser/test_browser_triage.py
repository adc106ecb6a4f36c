"""The triage queue with the keys, end to end: a real server and headless Chromium (Debian's). An analyst makes
a queue from a scoring (its PostScores written directly: training a model here would take minutes), labels
posts with 1 and 2, undoes with u, skips with s, writes a note with n, and the labels stored on the posts are
what the keys said. Then active learning, with a worker: on a queue over a tiny BERT's scoring, the analyst labels
with the keys (undoing one), presses Retrain, watches the job's progress, and round 2's metrics row appears."""
from __future__ import annotations

import json
import re

import pytest

from devstack.stack import last_json_line, portal_stack
from tests.browser.test_browser import PASSWORD, SETUP_USER, arrived, chromium, log_in, page  # noqa: F401

pytestmark = [pytest.mark.browser]

# platform id → score, in the uncertainty order (|p − 0.5| smallest first); exact binary fractions, no ties.
SCORES = {"t1": 0.5, "t2": 0.625, "t3": 0.25, "t4": 0.875, "t5": 0.0625}

# Alice (SETUP_USER), her investigation and the scored collection, in one Django start-up.
SCORED_COLLECTION = SETUP_USER + """
import json
from datetime import datetime, timedelta, timezone
from apps.analyses.models import Analysis, PostScore, TextModel
from apps.collections.models import Account, Collection, Post
from apps.investigations.services import investigation_create
from apps.jobs.models import Job

scores = %r
alice = get_user_model().objects.get(username="alice")
investigation_id = investigation_create(user=alice, name="Flagged posts").pk
collection = Collection.objects.create(investigation_id=investigation_id, name="flagged")
accounts = [Account.objects.create(collection=collection, platform_id=str(i), handle=f"acct{i}") for i in range(2)]
start = datetime(2024, 5, 1, tzinfo=timezone.utc)
posts = {p: Post.objects.create(collection=collection, platform_id=p, account=accounts[i %% 2], text=f"post {p} text",
                                time=start + timedelta(hours=i)) for i, p in enumerate(scores)}
model = TextModel.objects.create(investigation_id=investigation_id, name="clf", kind="encoder", base_model="tiny")
job = Job.objects.create(investigation_id=investigation_id, kind="analysis:score", status="succeeded", params={})
scoring = Analysis.objects.create(investigation_id=investigation_id, job=job, kind="score", collection=collection,
                                  params={"model": model.pk}, summary={"model": "clf", "posts": len(scores)})
PostScore.objects.bulk_create(PostScore(analysis=scoring, post=posts[p], account=posts[p].account, score=s)
                              for p, s in scores.items())
print(json.dumps({"investigation": investigation_id, "analysis": scoring.pk,
                  "posts": {p: post.pk for p, post in posts.items()}}))
"""

STORED = """
import json
from apps.audit.models import AuditEntry
from apps.collections.models import Post
from apps.notes.models import Note
from apps.triage.models import TriageDecision
print(json.dumps({
    "labels": {p.platform_id: p.labels.get("analyst_label") for p in Post.objects.filter(collection__name="flagged")},
    "decisions": list(TriageDecision.objects.order_by("id")
                      .values_list("post__platform_id", "value", "user__username")),
    "audit": sorted(AuditEntry.objects.filter(action__in=["label.set", "label.undo", "triage.skip"])
                    .values_list("action", flat=True)),
    "notes": list(Note.objects.values_list("body", "target_ref")),
}))
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory, chromium):  # noqa: F811
    """One portal for the module, without a worker: nothing here runs a job."""
    with portal_stack(tmp_path_factory.mktemp("triage"), worker=False) as stack:
        yield stack


def test_an_analyst_labels_undoes_and_skips_with_the_keys(stack, page):  # noqa: F811
    from playwright.sync_api import expect

    made = last_json_line(stack.shell(SCORED_COLLECTION % (SCORES,)))
    investigation_id = made["investigation"]
    post = {p: str(pk) for p, pk in made["posts"].items()}

    # 1. make the queue on its page: the scoring, most uncertain first, two labels
    log_in(page, stack, f"/investigations/{investigation_id}/triage/new/")
    page.locator("#id_analysis").select_option(str(made["analysis"]))
    page.locator("#id_order").select_option("uncertainty")
    page.fill("#id_label_values", "operation,organic")
    page.get_by_test_id("triage-create-submit").click()
    arrived(page)
    triage, item, progress = page.get_by_test_id("triage"), page.get_by_test_id("triage-item"), \
        page.get_by_test_id("triage-progress")
    expect(triage).to_have_attribute("data-state", "item")  # triage.js has shown the first item
    expect(item).to_have_attribute("data-post", post["t1"])
    expect(page.get_by_test_id("triage-text")).to_have_text("post t1 text")
    expect(progress).to_have_text("0 / 5")

    # 2. ? shows the keys, Esc closes them; n writes a note on the post shown
    page.keyboard.press("?")
    expect(page.get_by_test_id("triage-help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("triage-help")).to_be_hidden()
    page.keyboard.press("n")
    expect(page.get_by_test_id("triage-note")).to_be_visible()
    page.fill("#triage-note-body", "Same wording as the amplifiers.")
    page.get_by_test_id("triage-note").get_by_role("button", name="Add note").click()
    expect(page.get_by_test_id("triage-status")).to_have_text("Note added to the post.")
    expect(page.get_by_test_id("triage-note")).to_be_hidden()

    # 3. the keys: each waits for the next item the answer brings
    for key, shown_next, done in (("1", "t2", 1), ("2", "t3", 2), ("1", "t4", 3), ("u", "t3", 2), ("s", "t4", 3),
                                  ("2", "t5", 4)):
        page.keyboard.press(key)
        expect(item).to_have_attribute("data-post", post[shown_next])
        expect(progress).to_have_text(f"{done} / 5")
    expect(page.get_by_test_id("triage-status")).to_have_text("Labelled post t4 organic.")
    page.screenshot(path="/tmp/browser-triage.png", full_page=True)

    stored = last_json_line(stack.shell(STORED))
    assert stored["labels"] == {"t1": "operation", "t2": "organic", "t3": None, "t4": "organic", "t5": None}
    assert stored["decisions"] == [["t1", "operation", "alice"], ["t2", "organic", "alice"], ["t3", "", "alice"],
                                   ["t4", "organic", "alice"]]
    assert stored["audit"] == ["label.set"] * 4 + ["label.undo", "triage.skip"]
    assert stored["notes"] == [["Same wording as the amplifiers.", {"post": int(post["t1"])}]]


ACCOUNT_LABELS = """
import json
from apps.collections.models import Account
from apps.triage.models import TriageDecision
print(json.dumps({
    "labels": {a.handle: a.labels.get("account_label") for a in Account.objects.filter(collection__investigation=%d)},
    "decisions": list(TriageDecision.objects.filter(account__isnull=False).order_by("id")
                      .values_list("account__handle", "value", "user__username")),
}))
"""


def test_an_analyst_labels_two_accounts_with_the_keys(stack, page):  # noqa: F811
    """An account queue over the same kind of scoring: acct0's mean score (0.271) is nearer 0.5 than acct1's (0.75)."""
    from playwright.sync_api import expect

    made = last_json_line(stack.shell((SCORED_COLLECTION % (SCORES,)).replace(SETUP_USER, ALICE_ONCE)))
    investigation_id = made["investigation"]
    log_in(page, stack, f"/investigations/{investigation_id}/triage/new/")
    page.locator("#id_unit").select_option("account")
    page.locator("#id_analysis").select_option(str(made["analysis"]))
    page.fill("#id_label_key", "account_label")
    page.fill("#id_label_values", "operation,organic")
    page.get_by_test_id("triage-create-submit").click()
    arrived(page)
    triage, handle = page.get_by_test_id("triage"), page.get_by_test_id("triage-handle")
    expect(triage).to_have_attribute("data-state", "item")
    expect(handle).to_have_text("@acct0")
    expect(page.get_by_test_id("triage-account-posts")).to_have_text("3")
    expect(page.get_by_test_id("triage-retrain-absent")).to_contain_text("post queues only")
    page.keyboard.press("1")
    expect(handle).to_have_text("@acct1")
    page.keyboard.press("2")
    expect(triage).to_have_attribute("data-state", "done")
    expect(page.get_by_test_id("triage-progress")).to_have_text("2 / 2")

    stored = last_json_line(stack.shell(ACCOUNT_LABELS % investigation_id))
    assert stored["labels"] == {"acct0": "operation", "acct1": "organic"}
    assert stored["decisions"] == [["acct0", "operation", "alice"], ["acct1", "organic", "alice"]]


ALICE_ONCE = ("from django.contrib.auth import get_user_model\n"  # an earlier test may have made her
              "if not get_user_model().objects.filter(username='alice').exists():\n"
              f"    get_user_model().objects.create_user('alice', password={PASSWORD!r})\n")

# Bob edits Alice's investigation; her queue asks for one label per item, so what he labels leaves her queue.
ONE_LABEL_QUEUE = """
from apps.investigations.models import Investigation
from apps.investigations.services import member_set
from apps.triage.services import queue_create
alice, bob = get_user_model().objects.get(username="alice"), get_user_model().objects.create_user("bob")
investigation = Investigation.objects.get(pk=investigation_id)
member_set(investigation=investigation, username="bob", role="editor")
queue = queue_create(investigation=investigation, user=alice, analysis=scoring, order="uncertainty",
                     label_key="analyst_label", label_values="operation,organic", labels_per_item=1)
print(json.dumps({"queue": queue.pk, "posts": {p: post.pk for p, post in posts.items()}}))
"""

BOB_LABELS = """
from django.contrib.auth import get_user_model
from apps.triage.models import TriageQueue
from apps.triage.services import decision_record
decision_record(queue=TriageQueue.objects.get(pk=%d), user=get_user_model().objects.get(username="bob"), post_id=%d,
                value="organic")
"""

DECISIONS = """
import json
from apps.triage.models import TriageDecision
print(json.dumps(list(TriageDecision.objects.filter(queue=%d).order_by("id")
                      .values_list("post__platform_id", "value", "user__username"))))
"""


def test_a_key_draws_the_item_fetched_ahead_and_one_taken_meanwhile_gives_way(stack, page):  # noqa: F811
    """The page holds the item after the one shown: a key draws it before the decision's answer comes (held back
    here until the item is drawn). Then Bob labels the item Alice's page holds ahead (one label per item): her next
    key draws it at once, and the answer replaces it with the next one, saying why."""
    from playwright.sync_api import expect

    script = (SCORED_COLLECTION % (SCORES,)).replace(SETUP_USER, ALICE_ONCE).replace("print(json.dumps", "_ = (")
    made = last_json_line(stack.shell(script + ONE_LABEL_QUEUE))
    post = {p: str(pk) for p, pk in made["posts"].items()}
    log_in(page, stack, f"/triage/{made['queue']}/")
    item, status = page.get_by_test_id("triage-item"), page.get_by_test_id("triage-status")
    expect(item).to_have_attribute("data-post", post["t1"])

    # 1. the decision's answer held back: t2 is drawn all the same, and the answer, once let through, is t2 too
    held = []

    def hold(route):
        held.append(route)

    page.route("**/decisions/", hold)
    with page.expect_request("**/decisions/"):
        page.keyboard.press("1")
    expect(item).to_have_attribute("data-post", post["t2"])
    expect(page.get_by_test_id("triage-progress")).to_have_text("1 / 5")
    for _ in range(1_000):  # the route's handler runs when Playwright next reads its events: let it read them
        if held:
            break
        page.wait_for_timeout(20)
    assert held, "the decision's request never reached the route that holds it"
    expect(status).not_to_have_text("Labelled post t1 operation.")
    held[0].continue_()
    page.unroute("**/decisions/")
    expect(status).to_have_text("Labelled post t1 operation.")
    expect(item).to_have_attribute("data-post", post["t2"])

    # 2. Bob labels t3, which Alice's page holds ahead while she reads t2
    stack.shell(BOB_LABELS % (made["queue"], made["posts"]["t3"]))
    page.keyboard.press("2")
    expect(item).to_have_attribute("data-post", post["t4"])
    expect(status).to_have_text("Labelled post t2 organic; post t3 was decided meanwhile: showing the next.")
    expect(page.get_by_test_id("triage-progress")).to_have_text("2 / 5")
    page.keyboard.press("1")
    expect(item).to_have_attribute("data-post", post["t5"])
    expect(status).to_have_text("Labelled post t4 operation.")

    decisions = json.loads(stack.shell(DECISIONS % made["queue"]).strip().splitlines()[-1])
    assert decisions == [["t1", "operation", "alice"], ["t3", "organic", "bob"], ["t2", "organic", "alice"],
                         ["t4", "operation", "alice"]]


# Active learning: a tiny BERT (trained in seconds) scores a labelled collection; Alice's queue over it.
TINY_MODEL_QUEUE = SETUP_USER + """
import json, random, shutil, tempfile
from pathlib import Path
from apps.analyses.kinds.train_classifier import _classifier
from apps.analyses.models import Analysis, PostScore, TextModel
from apps.collections.models import Post
from apps.investigations.services import investigation_create
from apps.jobs.models import Job
from apps.triage.services import queue_create
from ml.text import save_tiny_bert
from tests.analyses.text_data import store_labelled_collection, texts

alice = get_user_model().objects.get(username="alice")
investigation = investigation_create(user=alice, name="Retraining")
collection = store_labelled_collection(investigation, accounts=6, posts=8)
posts = list(Post.objects.filter(collection=collection).select_related("account").order_by("id"))
truth = [int(p.account.labels["account_category"] != "Commercial") for p in posts]
base = save_tiny_bert(texts() * 5, Path(tempfile.mkdtemp()) / "tiny", layers=1, hidden=16, heads=2)
params = {"model": "encoder", "base_dir": str(base), "epochs": 1, "batch_size": 16, "learning_rate": 1e-3,
          "max_length": 32, "seed": 0}
classifier = _classifier(params).fit([p.text for p in posts], truth, groups=[p.account_id for p in posts])
model = TextModel.objects.create(investigation=investigation, name="tiny troll detector", kind="encoder",
    base_model="tiny BERT", metrics=classifier.metrics_, created_by=alice,
    params={"label_source": "account_label", "label_key": "account_category",
            "positive_values": ["RightTroll", "LeftTroll"], "max_length": 32},
    training=[{"id": collection.pk, "name": collection.name}])
classifier.save(model.weights_dir)
scores = classifier.probabilities([p.text for p in posts]).tolist()
job = Job.objects.create(investigation=investigation, kind="analysis:score", status="succeeded", params={})
scoring = Analysis.objects.create(investigation=investigation, job=job, kind="score", collection=collection,
                                  params={"model": model.pk}, summary={"model": model.name, "posts": len(posts)},
                                  result={"threshold": 0.5})
PostScore.objects.bulk_create(PostScore(analysis=scoring, post=p, account=p.account, score=s)
                              for p, s in zip(posts, scores))
queue = queue_create(investigation=investigation, user=alice, analysis=scoring, order="uncertainty",
                     label_key="analyst_label", label_values="operation,organic,unsure")
print(json.dumps({"queue": queue.pk, "total": len(posts)}))
"""

ROUNDS = """
import json
from apps.triage.models import TriageRound
print(json.dumps([[r.number, r.labels, r.metrics.get("auc")] for r in TriageRound.objects.order_by("number")]))
"""


@pytest.fixture(scope="module")
def learning_stack(tmp_path_factory, chromium):  # noqa: F811
    """A portal with a worker: the retraining is a job."""
    with portal_stack(tmp_path_factory.mktemp("triage-learning")) as stack:
        yield stack


def test_an_analyst_labels_with_the_keys_retrains_and_sees_round_two(learning_stack, chromium):  # noqa: F811
    from playwright.sync_api import expect

    stack = learning_stack
    made = last_json_line(stack.shell(TINY_MODEL_QUEUE, timeout=300))
    context = chromium.new_context(viewport={"width": 1360, "height": 900})
    tab = context.new_page()
    errors = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(tab, stack, f"/triage/{made['queue']}/")
    triage, item, progress = tab.get_by_test_id("triage"), tab.get_by_test_id("triage-item"), \
        tab.get_by_test_id("triage-progress")
    expect(triage).to_have_attribute("data-state", "item")
    rows = tab.get_by_test_id("round-row")
    expect(rows).to_have_count(1)

    # 1. label with the keys, undo one: four operation (1) and three organic (2) stay
    total = made["total"]
    for key, done in (("1", 1), ("1", 2), ("1", 3), ("2", 4), ("2", 5), ("2", 6), ("u", 5), ("2", 6), ("1", 7)):
        shown = item.get_attribute("data-post")
        tab.keyboard.press(key)
        expect(progress).to_have_text(f"{done} / {total}")
        if key != "u":
            expect(item).not_to_have_attribute("data-post", shown)

    # 2. retrain: the job's progress is drawn live, then round 2's row appears with its metrics
    tab.get_by_test_id("triage-retrain").click()
    expect(tab.get_by_test_id("job-panel")).to_be_visible()
    round_two = tab.locator('[data-testid="round-row"][data-round="2"]')
    expect(round_two).to_be_visible(timeout=240_000)
    expect(tab.get_by_test_id("job-status")).to_have_text("succeeded")
    expect(round_two.get_by_test_id("round-auc")).to_have_text(re.compile(r"^[01]\.\d{3}$"))
    expect(tab.get_by_test_id("triage-status")).to_contain_text("Round 2 ready")
    tab.screenshot(path="/tmp/browser-triage-retrain.png", full_page=True)
    assert not errors, errors

    stored = json.loads(stack.shell(ROUNDS).strip().splitlines()[-1])
    assert [r[:2] for r in stored] == [[1, 0], [2, 5]]  # 7 labels, one of each class held out
    assert stored[1][2] is not None and 0.0 <= stored[1][2] <= 1.0
    context.close()
