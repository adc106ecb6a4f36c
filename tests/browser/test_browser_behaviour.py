"""Behaviour and embeddings, walked as issue 13's "done when" walks them, in headless Chromium against a real server and
worker: on a small simulated town with its operation labelled, train TIES from its start page → build the hybrid score
from its start page (the selects name the collection's behaviour, score and coordination analyses) with the evaluation
on, and read the gap table and the PR curves → open the top account in the workspace and read its signals → map the
accounts' TIES embeddings coloured by coordination community and lasso a cluster: exactly the accounts inside are
listed.

The town is small (74 accounts over 6 days) and every setting tiny (DeepSet TIES, 3 epochs, 8-dimension graph
embeddings, 2 evaluation splits of one encoder): the jobs' own work takes seconds, and most of the walk's time is the
worker's first import of torch and scikit-learn. The content signal is a stored score analysis (as
``tests/analyses/test_hybrid_kind.py`` makes it) rather than a fine-tuned text model."""
from __future__ import annotations

import pytest

from devstack.stack import last_json_line, portal_stack
from tests.browser.test_browser import SETUP_USER, arrived, chromium, investigation_new, log_in, page  # noqa: F401
from tests.browser.test_browser_workspace import ready

pytestmark = [pytest.mark.browser, pytest.mark.worker]

JOB_TIMEOUT_MS = 120_000

# The town imported by the worker and labelled (operation / resident from the simulation's truth), a stored score
# analysis whose operation posts score a little higher, with noise (every third account unscored), and a coordination
# network (one-minute bins: it finds the operation) queued for the worker, which runs it before the walk's TIES job.
TOWN = """
import json, time
import numpy as np
from django.contrib.auth import get_user_model
from apps.analyses.models import Analysis, PostScore
from apps.analyses.services import analysis_start
from apps.collections.models import Account, Collection, Post
from apps.collections.services import import_start
from apps.investigations.models import Investigation
from apps.jobs.models import Job
from ml.simulation import OperationConfig, operation_truth, write_operation_csv

config = OperationConfig(seed=5, days=6, organic_accounts=60, operation_accounts=16, seed_accounts=2)
investigation, alice = Investigation.objects.get(pk=%(investigation)d), get_user_model().objects.get(username="alice")
write_operation_csv(%(path)r, config)
job = import_start(investigation=investigation, user=alice, collection_name="town",
                   files=[{"path": %(path)r, "name": "town.csv"}])
deadline = time.monotonic() + 120
while Job.objects.get(pk=job.pk).status not in ("succeeded", "failed") and time.monotonic() < deadline:
    time.sleep(0.1)
assert Job.objects.get(pk=job.pk).status == "succeeded"
town = Collection.objects.get(investigation=investigation, name="town")
operation = operation_truth(config)["operation_userids"]
accounts = Account.objects.filter(collection=town, observed=True)
accounts.filter(platform_id__in=operation).update(labels={"role": "operation"})
accounts.exclude(platform_id__in=operation).update(labels={"role": "resident"})
job = Job.objects.create(investigation=investigation, kind="analysis:score", status="succeeded", params={})
score = Analysis.objects.create(investigation=investigation, job=job, kind="score", collection=town,
                                params={"model": 1}, result={}, summary={})
rng, rows = np.random.default_rng(0), []
for post, account, labels in Post.objects.filter(collection=town).values_list("id", "account_id", "account__labels"):
    if account %% 3 and labels:
        mean = 0.6 if labels.get("role") == "operation" else 0.4
        rows.append(PostScore(analysis=score, post_id=post, account_id=account,
                              score=float(np.clip(rng.normal(mean, 0.2), 0, 1))))
PostScore.objects.bulk_create(rows)
network = analysis_start(investigation=investigation, user=alice, kind="coordination", collection=town,
                         params={"bin_seconds": 60})
print(json.dumps({"collection": town.pk, "score": score.pk, "network_job": network.pk, "accounts": accounts.count()}))
"""

# The hybrid page's top row: the account, its score and each signal's contribution (by the column's label).
TOP_ROW = """() => {
    const heads = [...document.querySelectorAll('[data-testid=hybrid-accounts] thead th')].slice(4)
        .map((th) => th.textContent.trim());
    const cells = [...document.querySelector('[data-testid=hybrid-row]').cells];
    const account = Number(new URL(cells[0].querySelector('a').href).searchParams.get('account'));
    const contributions = Object.fromEntries(heads.map((h, i) => [h, Number(cells[4 + i].firstChild.textContent)]));
    return {account, probability: Number(cells[3].textContent), contributions};
}"""

# The biggest community's points on the map, its bounding box (padded a little, kept inside the axes) in data and
# pixel coordinates, and every point inside that box: what a lasso along the box must list.
CLUSTER_BOX = """() => {
    const plot = document.querySelector('#embedding-map'), layout = plot._fullLayout, size = layout._size;
    const data = JSON.parse(document.getElementById('embedding-map-data').textContent);
    const biggest = plot.data.filter((t) => t.name !== '(no community)').sort((a, b) => b.x.length - a.x.length)[0];
    const [xl, xh] = layout.xaxis.range, [yl, yh] = layout.yaxis.range;
    const padX = (xh - xl) / 100, padY = (yh - yl) / 100;
    const x0 = Math.max(Math.min(...biggest.x) - padX, xl + padX);
    const x1 = Math.min(Math.max(...biggest.x) + padX, xh - padX);
    const y0 = Math.max(Math.min(...biggest.y) - padY, yl + padY);
    const y1 = Math.min(Math.max(...biggest.y) + padY, yh - padY);
    const rect = plot.getBoundingClientRect();
    const px = (x, y) => [rect.left + size.l + layout.xaxis.d2p(x), rect.top + size.t + layout.yaxis.d2p(y)];
    const inside = data.x.map((x, i) => i)
        .filter((i) => data.x[i] > x0 && data.x[i] < x1 && data.y[i] > y0 && data.y[i] < y1);
    return {community: biggest.name, members: biggest.x.length, handles: inside.map((i) => '@' + data.handle[i]),
            corners: [px(x0, y0), px(x0, y1), px(x1, y1), px(x1, y0), px(x0, y0)]};
}"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory, chromium):  # noqa: F811
    """The shared portal with one single-threaded worker process. The walk's jobs run one after another, each reusing
    the torch the first one imported (a second process imports it again), and the tiny models gain nothing from a
    second thread: on a loaded 2-core machine two OpenMP threads made a 3-epoch TIES run take 10 s instead of 1.5 s."""
    with portal_stack(tmp_path_factory.mktemp("portal"), env={"Q_WORKERS": "1", "OMP_NUM_THREADS": "1"}) as stack:
        stack.shell(SETUP_USER)
        yield stack


def finished(tab) -> None:
    """Wait on the job page for the job to succeed, then open its analysis."""
    from playwright.sync_api import expect

    expect(tab.get_by_test_id("job-status")).to_have_text("succeeded", timeout=JOB_TIMEOUT_MS)
    tab.get_by_test_id("analysis-link").click()
    arrived(tab)


def test_an_analyst_trains_ties_builds_the_hybrid_and_maps_the_accounts(stack, page, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    investigation = investigation_new(stack, "Town")
    town = last_json_line(stack.shell(TOWN % {"investigation": investigation, "path": str(tmp_path / "town.csv")}))

    # 1. TIES from its start page, tiny settings
    log_in(page, stack, f"/collections/{town['collection']}/")
    page.get_by_test_id("behaviour-link").click()
    arrived(page)
    page.fill("#id_label_key", "role")
    page.fill("#id_positive_values", "operation")
    page.select_option("#id_encoder", "deepset")
    for field, value in (("epochs", "3"), ("embedding_dim", "8"), ("graph_epochs", "2")):
        page.fill(f"#id_{field}", value)
    page.get_by_test_id("behaviour-submit").click()
    finished(page)
    expect(page.get_by_test_id("behaviour-metrics")).to_be_visible()
    trained = page.url.rstrip("/").rsplit("/", 1)[1]

    [(network_status, network)] = stack.query("SELECT j.status, a.id FROM jobs_job j LEFT JOIN analyses_analysis a "
                                              "ON a.job_id = j.id WHERE j.id = ?", (town["network_job"],))
    assert network_status == "succeeded", network_status  # one worker: it ran before the TIES job
    town["network"] = network

    # 2. the hybrid from its start page: the newest behaviour analysis is preselected; pick the score and network
    page.get_by_test_id("hybrid-start-link").click()
    arrived(page)
    behaviour = page.get_by_test_id("hybrid-behaviour").input_value()
    assert behaviour == trained
    page.get_by_test_id("hybrid-score").select_option(str(town["score"]))
    page.get_by_test_id("hybrid-network").select_option(str(town["network"]))
    page.check("#id_evaluate")
    page.fill("#id_repeats", "2")
    page.locator("input[name=eval_encoders][value=cnn]").uncheck()
    page.locator("input[name=eval_encoders][value=deepset]").check()
    page.get_by_test_id("hybrid-submit").click()
    finished(page)

    # 3. the gap table (each model against content alone over 2 splits) and the PR curves of the first split
    expect(page.get_by_test_id("hybrid-evaluation")).to_contain_text("Evaluation over 2 random account splits")
    gaps = page.get_by_test_id("gap-row")
    expect(gaps).to_have_count(3)
    cells = [[c.strip() for c in row.split("\t")] for row in gaps.all_inner_texts()]
    assert [c[0] for c in cells] == ["content alone", "TIES-DeepSet", "hybrid (content + TIES-DeepSet)"], cells
    assert all(0 <= float(c[1]) <= 1 for c in cells) and all(c[2] != "—" for c in cells[1:]), cells
    page.wait_for_function("document.querySelector('[data-testid=chart-evaluation-pr]').data?.length > 0")
    curves = page.evaluate("() => document.querySelector('[data-testid=chart-evaluation-pr]').data.map((t) => t.name)")
    assert [c.rsplit(" (", 1)[0] for c in curves] == [c[0] for c in cells] + ["chance"], curves
    expect(page.get_by_test_id("hybrid-summary")).to_contain_text(f"behaviour #{behaviour}")

    # 4. the t-SNE map of the accounts' TIES embeddings coloured by coordination community, started from its page; the
    # job runs while the workspace is read
    top = page.evaluate(TOP_ROW)
    page.goto(f"{stack.url}/collections/{town['collection']}/")
    page.get_by_test_id("embedding-map-link").click()
    arrived(page)
    page.select_option("#id_unit", "account")
    page.fill("#id_behaviour", behaviour)
    page.fill("#id_communities", str(town["network"]))
    page.get_by_test_id("embedding_map-submit").click()
    expect(page.get_by_test_id("job-status")).to_be_visible()
    map_job = page.url

    # 5. the top-scored account in the workspace (URL state account=<id>): its score and each signal's contribution,
    # largest effect first, as the hybrid's page has them
    page.goto(f"{stack.url}/investigations/{investigation}/workspace/?c={town['collection']}&account={top['account']}")
    ready(page)
    hybrid = page.get_by_test_id("ws-account-hybrid")
    expect(hybrid).to_be_visible()
    probability = float(hybrid.locator("p").first.inner_text().split(": ")[1].split(" ")[0])
    assert probability == pytest.approx(top["probability"], abs=1.1e-3)
    signals = page.get_by_test_id("ws-hybrid-signal")
    expect(signals).to_have_count(5)  # TIES, content, degree, strength, community size
    shown = {label: float(contribution) for label, _, contribution, *_ in
             (r.split("\t") for r in signals.all_inner_texts())}
    assert shown.keys() == top["contributions"].keys(), (shown, top)
    assert all(shown[s] == pytest.approx(top["contributions"][s], abs=5.1e-3) for s in shown), (shown, top)
    assert [abs(c) for c in shown.values()] == sorted((abs(c) for c in shown.values()), reverse=True)

    # 6. the map, once drawn: lasso the biggest community's box; exactly the accounts inside it are listed
    page.goto(map_job)
    finished(page)
    page.wait_for_selector("#embedding-map[data-drawn]", state="attached")
    page.get_by_test_id("embedding-map").scroll_into_view_if_needed()
    legend = page.evaluate("() => document.querySelector('#embedding-map').data.map((t) => t.name)")
    assert len(legend) >= 2 and any(name.startswith("community") for name in legend), legend
    box = page.evaluate(CLUSTER_BOX)
    assert box["members"] >= 2 and len(box["handles"]) >= box["members"], box
    page.mouse.move(*box["corners"][0])
    page.mouse.down()
    for corner in box["corners"][1:]:
        page.mouse.move(*corner, steps=5)
    page.mouse.up()
    listed = page.get_by_test_id("map-selected-account")
    expect(listed).to_have_count(len(box["handles"]))
    assert sorted(listed.all_inner_texts()) == sorted(box["handles"])
    expect(page.get_by_test_id("map-selection-count")).to_contain_text(f"{len(box['handles'])} accounts selected")
