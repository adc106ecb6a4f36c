"""Labelled text-only sets (hardening issue, finding 9): LIAR's header-less TSV and Constraint's
``id,tweet,label`` CSV import with a mapping of text and labels alone — no time, and a placeholder author
of its own for each post — and a text classifier trains on such a collection and scores it.

The real files are read in slices at test time (``../shared/data``); nothing of them is kept."""
from __future__ import annotations

import csv
import json
from io import StringIO
from itertools import islice

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from apps.collections.importers.csvrows import detect_quoting
from apps.collections.models import Account, Collection, ImportFile, Interaction, Post
from apps.collections.services import import_start
from apps.jobs.services import job_execute
from tests.collections.importer_files import drain
from tests.collections.test_importers import only_source, refusal

LIAR_MAPPING = {"text": "col3", "label:label": "col2"}
# LIAR's line 2155 opens a quotation mark it never closes: read with CSV quoting, it swallows line 2156.
LIAR_HEAD, LIAR_AROUND = 150, (2150, 2160)
CONSTRAINT_ROWS = 120


def liar_slice(shared_data, out):
    """LIAR's first lines and those around 2155, as a header-less TSV; returns (path, lines)."""
    lines = (shared_data / "liar" / "train.tsv").read_text(encoding="utf-8").splitlines(keepends=True)
    kept = lines[:LIAR_HEAD] + lines[LIAR_AROUND[0] - 1 : LIAR_AROUND[1]]
    out.write_text("".join(kept), encoding="utf-8")
    return out, len(kept)


def constraint_slice(shared_data, out, rows: int = CONSTRAINT_ROWS):
    with open(shared_data / "constraint" / "Constraint_Train.csv", newline="", encoding="utf-8") as src:
        kept = list(islice(csv.reader(src), rows + 1))
    with open(out, "w", newline="", encoding="utf-8") as dst:
        csv.writer(dst).writerows(kept)
    return out


def command(*args) -> dict:
    out = StringIO()
    call_command(*args, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def accounted(summary: dict) -> bool:
    return summary["rows_read"] == summary["stored"] + summary["duplicates"] + summary["rejected"]


# --- reading (no database) ----------------------------------------------------------------------------


def test_a_liar_slice_reads_by_position_without_a_header(shared_data, tmp_path):
    path, lines = liar_slice(shared_data, tmp_path / "liar.tsv")
    source = only_source(path, mapping=LIAR_MAPPING, header=False)
    posts, rejected = drain(source)
    assert (source.format, rejected, [p.line for p in posts]) == ("generic_csv", [], list(range(1, lines + 1)))
    first = posts[0]
    assert first.text.startswith("Says the Annies List political group") and first.labels == {"label": "false"}
    assert first.time is None
    assert first.account.placeholder and first.account.platform_id == f"row:{first.platform_id}"
    # Quotation marks are the speaker's, not CSV quoting: they stay, and line 2155 does not swallow 2156.
    assert posts[7].text.startswith("\"I'm the only person on this stage") and posts[7].text.endswith('."')
    unclosed, after = posts[LIAR_HEAD + 2155 - LIAR_AROUND[0]], posts[LIAR_HEAD + 2156 - LIAR_AROUND[0]]
    assert unclosed.text.startswith('"The fact is that although') and unclosed.labels == {"label": "false"}
    assert after.text.startswith("Most of the jobs that we lost") and after.labels == {"label": "true"}
    assert len({p.account.platform_id for p in posts}) == lines  # one placeholder author per post


def test_a_tab_file_quoted_by_a_csv_writer_keeps_its_quoting(tmp_path):
    escaped = 'id\ttext\n1\t"he said ""hi"""\n'
    embedded_tab = 'id\ttext\n1\t"a\tb"\n'
    liar_like = 'id\ttext\n1\t"I never said that," he said\n'
    assert [detect_quoting(t, "\t", final=True) for t in (escaped, embedded_tab, liar_like)] == [
        csv.QUOTE_MINIMAL, csv.QUOTE_MINIMAL, csv.QUOTE_NONE]
    (tmp_path / "x.tsv").write_text(escaped)
    (post,), _ = drain(only_source(tmp_path / "x.tsv", format="generic_csv", mapping={"text": "text"}))
    assert post.text == 'he said "hi"'


def test_a_constraint_slice_reads_with_its_ids_and_no_account(shared_data, tmp_path):
    path = constraint_slice(shared_data, tmp_path / "constraint.csv", rows=3)
    mapping = {"post_id": "id", "text": "tweet", "label:label": "label"}
    posts, rejected = drain(only_source(path, format="generic_csv", mapping=mapping))
    assert not rejected and [(p.platform_id, p.account.platform_id, p.labels["label"]) for p in posts] == [
        ("1", "row:1", "real"), ("2", "row:2", "real"), ("3", "row:3", "fake")]
    assert {p.time for p in posts} == {None} and posts[2].hashtags == ["coronavirus", "nashville"]


def test_a_headerless_file_is_read_only_by_a_mapping_by_position(shared_data, tmp_path):
    path, _ = liar_slice(shared_data, tmp_path / "liar.tsv")
    assert refusal(path, mapping={"text": "statement"}, header=False) == (
        "liar.tsv: the column mapping names column(s) not in the header: 'statement' "
        "(name a column by its header, or by its position: col1 to col14)")
    assert refusal(path, format="ira_538", mapping=LIAR_MAPPING, header=False) == (
        "liar.tsv: a file without a header row can only be read as Generic CSV (column mapping)")
    assert "needs a column mapping" in refusal(path, header=False)


# --- importing (database) -----------------------------------------------------------------------------


@pytest.fixture
def alice_cli(users):
    users["alice"].is_superuser = True
    users["alice"].save()
    return ["--user", "alice"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.services
def test_a_liar_slice_imports_through_the_command_with_text_and_label_only(investigation, alice_cli, shared_data,
                                                                           tmp_path):
    path, lines = liar_slice(shared_data, tmp_path / "liar.tsv")
    args = ["import_collection", str(path), "--investigation", investigation.name, "--collection", "liar", *alice_cli,
            "--no-header", "--map", "text=col3", "--map", "label:label=col2"]
    summary = command(*args)
    assert summary["status"] == "succeeded", summary["error"]
    assert summary["rows_read"] == lines and accounted(summary) and summary["rejected"] == 0
    collection = Collection.objects.get(pk=summary["collection_id"])
    posts = Post.objects.filter(collection=collection)
    assert posts.count() == summary["stored"] == posts.filter(time__isnull=True).count()
    assert Account.objects.filter(collection=collection, placeholder=True).count() == summary["stored"]
    assert not Account.objects.filter(collection=collection, placeholder=False).exists()
    assert not Interaction.objects.filter(collection=collection).exists()  # no author, no time: no acts
    stats = collection.stats
    assert (stats["accounts"], stats["top_accounts"], stats["posts_per_day"], stats["first_post"]) == (0, [], [], None)
    assert stats["posts_without_time"] == stats["posts_without_account"] == summary["stored"]
    assert sum(stats["labels"]["post"]["label"].values()) == summary["stored"] and stats["labels"]["account"] == {}
    again = command(*args)  # the same file again: the hashed ids and their placeholders are found again
    assert (again["stored"], again["duplicates"]) == (0, summary["stored"])


@pytest.mark.django_db
@pytest.mark.services
def test_a_liar_slice_imports_through_the_upload_api(api_for, investigation, shared_data, tmp_path):
    path, lines = liar_slice(shared_data, tmp_path / "liar.tsv")
    upload = SimpleUploadedFile("liar.tsv", path.read_bytes(), content_type="text/tab-separated-values")
    fields = {"files": [upload], "collection": "liar", "no_header": "true", "mapping": json.dumps(LIAR_MAPPING)}
    response = api_for("bob").post(reverse("api-import-start", args=[investigation.pk]), fields, format="multipart")
    assert response.status_code == 201, response.content
    job = job_execute(job_id=response.json()["id"])
    assert job.status == "succeeded", job.error
    assert job.params["format"] == "generic_csv" and job.params["no_header"] is True
    assert job.result["rows_read"] == lines and accounted(job.result)
    (import_file,) = ImportFile.objects.filter(job=job)
    assert (import_file.rows_read, import_file.stored + import_file.duplicates + import_file.rejected) == (lines, lines)


@pytest.mark.django_db
def test_the_upload_page_previews_and_starts_a_file_without_a_header(client_for, investigation, shared_data, tmp_path):
    path, _ = liar_slice(shared_data, tmp_path / "liar.tsv")
    client = client_for("bob")
    preview = client.post(reverse("upload-preview", args=[investigation.pk]),
                          {"file": SimpleUploadedFile("liar.tsv", path.read_bytes()), "no_header": "on"}).json()
    assert preview["columns"] == [f"col{i}" for i in range(1, 15)] and preview["rows"][0][:2] == ["2635.json", "false"]
    assert (preview["format"], preview["quoting"], preview["error"]) == ("generic_csv", "none", None)
    fields = {"files": [SimpleUploadedFile("liar.tsv", path.read_bytes())], "no_header": "on",
              "mapping": json.dumps(LIAR_MAPPING)}
    started = client.post(reverse("collection-upload", args=[investigation.pk]), fields, HTTP_ACCEPT="application/json")
    assert started.status_code == 201, started.content
    job = investigation.jobs.get()
    assert (job.params["no_header"], job.params["format"], job.params["mapping"]) == (True, "generic_csv", LIAR_MAPPING)


@pytest.mark.django_db
def test_an_upload_without_a_header_needs_a_mapping_and_the_generic_csv(api_for, investigation):
    api, url = api_for("bob"), reverse("api-import-start", args=[investigation.pk])

    def post(**fields):
        upload = SimpleUploadedFile("x.tsv", b"1\tfalse\tsaid\n")
        return api.post(url, {"files": [upload], "no_header": "true", **fields}, format="multipart")

    assert post().json()["mapping"] == [
        "A file without a header row needs a column mapping by position: col1 is the first column."]
    assert post(format="ira_538", mapping='{"text": "col3"}').json()["format"] == [
        "A file without a header row can only be read as Generic CSV (column mapping)."]


@pytest.mark.django_db(transaction=True)
@pytest.mark.services
def test_a_constraint_slice_imports_and_its_posts_stay_out_of_account_detectors(investigation, alice_cli, shared_data,
                                                                                tmp_path):
    from apps.analyses.selectors import coaction_posts, coordination_events

    path = constraint_slice(shared_data, tmp_path / "constraint.csv")
    summary = command("import_collection", str(path), "--investigation", investigation.name,
                      "--collection", "constraint", *alice_cli, "--format", "generic_csv",
                      "--map", "post_id=id", "--map", "text=tweet", "--map", "label:label=label")
    assert summary["status"] == "succeeded", summary["error"]
    assert summary["rows_read"] == CONSTRAINT_ROWS and accounted(summary)
    collection = Collection.objects.get(pk=summary["collection_id"])
    assert sorted(Post.objects.filter(collection=collection).values_list("platform_id", flat=True), key=int) == [
        str(i) for i in range(1, summary["stored"] + 1)]
    assert collection.stats["top_hashtags"] == [] and collection.stats["posts_without_account"] == summary["stored"]
    # Their hashtags and near-duplicate texts are no coordination: nobody is known to have posted them.
    assert coaction_posts(collection=collection, actions=["text", "hashtag", "url"])["account"] == []
    assert coordination_events(collection=collection, entity_types=["hashtag", "url"])["account"] == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.services
def test_a_file_with_accounts_but_no_time_keeps_its_accounts_and_acts_nowhere(investigation, users, tmp_path):
    (tmp_path / "x.csv").write_text("who,body\nann,#vote now\nbob,#vote later\nann,\n")
    job = import_start(investigation=investigation, user=users["alice"], collection_name="c", enqueue=False,
                       files=[{"path": str(tmp_path / "x.csv"), "name": "x.csv"}], format="generic_csv",
                       mapping={"handle": "who", "text": "body"})
    job = job_execute(job_id=job.pk)
    assert job.status == "succeeded", job.error
    assert (job.result["stored"], job.result["rejected"]) == (2, 1)
    collection = Collection.objects.get(pk=job.result["collection_id"])
    authors = Account.objects.filter(collection=collection, placeholder=False).values_list("handle", flat=True)
    assert sorted(authors) == ["ann", "bob"]
    assert not Interaction.objects.filter(collection=collection).exists()
    stats = collection.stats
    assert (stats["accounts"], stats["posts_without_time"], stats["posts_without_account"]) == (2, 2, 0)
    assert sorted(a["handle"] for a in stats["top_accounts"]) == ["ann", "bob"]


@pytest.mark.django_db(transaction=True)
def test_the_collection_pages_render_posts_without_time_or_account(investigation, alice_cli, client_for, api_for,
                                                                   shared_data, tmp_path):
    path, _ = liar_slice(shared_data, tmp_path / "liar.tsv")
    summary = command("import_collection", str(path), "--investigation", investigation.name, "--collection", "liar",
                      *alice_cli, "--no-header", "--map", "text=col3", "--map", "label:label=col2")
    client = client_for("carol")
    detail = client.get(reverse("collection-detail", args=[summary["collection_id"]]))
    assert detail.status_code == 200
    html = detail.content.decode()
    assert f"{summary['stored']} of {summary['stored']} posts have no time" in html
    assert f"{summary['stored']} posts name no account" in html and "No post has a time." in html
    posts = client.get(reverse("collection-posts", args=[summary["collection_id"]]))
    assert posts.status_code == 200 and posts.content.decode().count(">no account<") == 50
    api = api_for("carol")
    listed = api.get(reverse("api-post-list", args=[summary["collection_id"]]) + "?limit=2")
    assert listed.status_code == 200 and [p["time"] for p in listed.json()["results"]] == [None, None]
    accounts = api.get(reverse("api-account-list", args=[summary["collection_id"]]))
    assert accounts.json()["count"] == 0  # a placeholder is no account


# --- training and scoring on it -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.services
def test_a_text_classifier_trains_on_a_collection_without_accounts_and_scores_it(investigation, alice_cli, shared_data,
                                                                               tmp_path_factory):
    from apps.analyses.models import Analysis, TextModel
    from ml.text import save_tiny_bert

    folder = tmp_path_factory.mktemp("constraint")
    path = constraint_slice(shared_data, folder / "constraint.csv")
    where = ["--investigation", investigation.name, "--collection", "constraint", *alice_cli]
    imported = command("import_collection", str(path), *where, "--format", "generic_csv", "--map", "post_id=id",
                       "--map", "text=tweet", "--map", "label:label=label")
    assert imported["status"] == "succeeded", imported["error"]
    texts = list(Post.objects.filter(collection_id=imported["collection_id"]).values_list("text", flat=True))
    tiny = save_tiny_bert(texts, folder / "tiny-bert", layers=1, hidden=16, heads=2)
    params = {"label_source": "post_label", "label_key": "label", "positive_values": "fake", "base_dir": tiny,
              "epochs": 1, "batch_size": 16, "learning_rate": 1e-3, "max_length": 32}
    trained = command("run_analysis", "train_classifier", *where, *[f"--param={k}={v}" for k, v in params.items()])
    assert trained["status"] == "succeeded", trained.get("error")
    assert trained["posts"] == imported["stored"] and trained["account_disjoint"] is True
    split = TextModel.objects.get(pk=trained["text_model_id"]).split
    # Each post is its own placeholder author: the account-disjoint split is a split by post.
    assert all(split[part]["accounts"] == split[part]["posts"] for part in ("train", "val", "test"))
    assert split["test"]["posts"] > 0 and 0 < split["test"]["positives"] < split["test"]["posts"]
    scored = command("run_analysis", "score", *where, f"--param=model={trained['text_model_id']}")
    assert scored["status"] == "succeeded", scored.get("error")
    assert scored["posts"] == imported["stored"]
    # No stand-in author is listed as an account of its own in the per-account scores.
    assert scored["accounts"] == 0 and Analysis.objects.get(pk=scored["analysis"]).result["accounts"] == []
