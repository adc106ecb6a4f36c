"""The browser pages: who sees what, and that forms call the services.

Alice owns an investigation, Bob is her editor, Carol her viewer; Mallory is no member, so every
page and download of Alice's investigation is a 404 for her, exactly as for something missing.
"""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.collections.models import Account, Collection, ImportFile, Post, RejectedRow
from apps.investigations.models import Investigation, Membership, Role
from apps.investigations.services import investigation_create, member_set
from apps.jobs.models import Job

pytestmark = pytest.mark.django_db

IRA_HEADER = (
    "external_author_id,author,content,region,language,publish_date,harvested_date,following,followers,"
    "updates,post_type,account_type,retweet,account_category,new_june_2018"
)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # four users per test


@pytest.fixture
def world():
    """Alice's investigation with a collection, an import file with a rejected row, and jobs."""
    User = get_user_model()
    users = {
        name: User.objects.create_user(name, password="pw-" + name) for name in ("alice", "bob", "carol", "mallory")
    }
    investigation = investigation_create(user=users["alice"], name="IRA 2016", description="Troll accounts")
    member_set(investigation=investigation, username="bob", role=Role.EDITOR)
    member_set(investigation=investigation, username="carol", role=Role.VIEWER)
    collection = Collection.objects.create(
        investigation=investigation, name="ira-sample", created_by=users["alice"], stats=_stats()
    )
    job = Job.objects.create(
        investigation=investigation,
        kind="import",
        status=Job.Status.FAILED,
        progress=0.4,
        stage="Importing",
        error="Traceback: boom",
        params={"collection_id": collection.pk, "files": []},
        created_by=users["alice"],
    )
    running = Job.objects.create(
        investigation=investigation,
        kind="import",
        status=Job.Status.QUEUED,
        params={"collection_id": collection.pk},
    )
    import_file = ImportFile.objects.create(
        collection=collection,
        job=job,
        name="tweets.csv",
        format="ira",
        status=ImportFile.Status.DONE,
        rows_read=3,
        stored=1,
        duplicates=1,
        rejected=1,
    )
    RejectedRow.objects.create(import_file=import_file, line=3, field="publish_date", reason="=not a date")
    account = Account.objects.create(collection=collection, platform_id="1", handle="TEN_GOP")
    Post.objects.create(
        collection=collection,
        platform_id="p1",
        account=account,
        text="hello #maga",
        time=datetime(2016, 10, 1, 12, tzinfo=timezone.utc),
        labels={"category": "RightTroll"},
    )
    return {
        **users,
        "investigation": investigation,
        "collection": collection,
        "job": job,
        "queued": running,
        "import_file": import_file,
    }


def _stats() -> dict:
    return {
        "posts": 1,
        "accounts": 1,
        "referenced_accounts": 0,
        "entities": {"hashtag": 1},
        "interactions": {"hashtag": 1},
        "post_kinds": {"post": 1},
        "first_post": "2016-10-01T12:00:00+00:00",
        "last_post": "2016-10-01T12:00:00+00:00",
        "posts_per_day": [["2016-10-01", 1]],
        "top_accounts": [{"id": 1, "handle": "TEN_GOP", "posts": 1}],
        "top_hashtags": [["maga", 1]],
        "top_domains": [],
        "top_mentions": [],
        "labels": {"account": {}, "post": {"category": {"RightTroll": 1}}},
    }


def login(client, user):
    client.force_login(user)
    return client


def routes(w) -> list[tuple[str, str]]:
    """(method, url) of every page and download inside Alice's investigation."""
    inv, col, job, f = w["investigation"].pk, w["collection"].pk, w["job"].pk, w["import_file"].pk
    return [
        ("get", reverse("investigation-detail", args=[inv])),
        ("get", reverse("collection-upload", args=[inv])),
        ("post", reverse("collection-upload", args=[inv])),
        ("post", reverse("upload-preview", args=[inv])),
        ("get", reverse("collection-detail", args=[col])),
        ("get", reverse("collection-posts", args=[col])),
        ("get", reverse("job-list", args=[inv])),
        ("get", reverse("job-detail", args=[job])),
        ("post", reverse("job-cancel", args=[job])),
        ("post", reverse("job-retry", args=[job])),
        ("get", reverse("import-file-rejected", args=[f])),
        ("post", reverse("member-set", args=[inv])),
        ("post", reverse("member-remove", args=[inv])),
        ("get", reverse("investigation-delete", args=[inv])),
        ("post", reverse("investigation-delete", args=[inv])),
    ]


# --- anonymous and non-members ----------------------------------------------------------------------


def test_it_redirects_anonymous_users_to_login(client, world):
    for method, url in [("get", reverse("investigation-list")), *routes(world)]:
        response = getattr(client, method)(url)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith(reverse("login")), (method, url)


def test_it_hides_everything_from_non_members(client, world):
    login(client, world["mallory"])
    for method, url in routes(world):
        assert getattr(client, method)(url).status_code == 404, (method, url)
    assert Investigation.objects.filter(pk=world["investigation"].pk).exists()
    assert Job.objects.get(pk=world["queued"].pk).status == Job.Status.QUEUED


def test_it_lists_only_my_investigations(client, world):
    investigation_create(user=world["mallory"], name="Mallory's own")
    page = login(client, world["carol"]).get(reverse("investigation-list")).content.decode()
    assert "IRA 2016" in page
    assert "Mallory&#x27;s own" not in page and "Mallory's own" not in page


# --- viewers -----------------------------------------------------------------------------------------


def test_a_viewer_can_read_every_page(client, world):
    login(client, world["carol"])
    readable = [url for method, url in routes(world) if method == "get" and "upload" not in url and "delete" not in url]
    for url in readable:
        assert client.get(url).status_code == 200, url


def test_a_viewer_cannot_change_anything(client, world):
    login(client, world["carol"])
    inv, job = world["investigation"].pk, world["queued"].pk
    denied = [
        ("get", reverse("collection-upload", args=[inv]), {}),
        ("post", reverse("collection-upload", args=[inv]), {}),
        ("post", reverse("upload-preview", args=[inv]), {}),
        ("post", reverse("job-cancel", args=[job]), {}),
        ("post", reverse("job-retry", args=[world["job"].pk]), {}),
        ("post", reverse("member-set", args=[inv]), {"username": "carol", "role": "owner"}),
        ("post", reverse("member-remove", args=[inv]), {"username": "bob"}),
        ("post", reverse("investigation-delete", args=[inv]), {}),
    ]
    for method, url, data in denied:
        assert getattr(client, method)(url, data).status_code == 403, url
    assert Job.objects.get(pk=job).status == Job.Status.QUEUED
    assert Membership.objects.get(user=world["carol"]).role == Role.VIEWER
    assert Membership.objects.filter(user=world["bob"]).exists()


def test_a_viewer_sees_no_upload_link_or_members_form(client, world):
    page = login(client, world["carol"]).get(reverse("investigation-detail", args=[world["investigation"].pk]))
    html = page.content.decode()
    assert 'data-testid="my-role">Viewer' in html
    assert 'data-testid="upload-link"' not in html
    assert 'data-testid="member-form"' not in html


def test_an_editor_cannot_manage_members(client, world):
    login(client, world["bob"])
    url = reverse("member-set", args=[world["investigation"].pk])
    assert client.post(url, {"username": "bob", "role": "owner"}).status_code == 403


# --- investigations and members ----------------------------------------------------------------------


def test_it_creates_an_investigation(client, world):
    response = login(client, world["bob"]).post(
        reverse("investigation-list"), {"name": "Doppelganger", "description": ""}
    )
    investigation = Investigation.objects.get(name="Doppelganger")
    assert response.status_code == 302
    assert response["Location"] == reverse("investigation-detail", args=[investigation.pk])
    assert Membership.objects.get(investigation=investigation).role == Role.OWNER


def test_it_shows_errors_on_the_create_form(client, world):
    response = login(client, world["bob"]).post(reverse("investigation-list"), {"name": "   "})
    assert response.status_code == 400
    assert 'data-testid="error-name"' in response.content.decode()


def test_the_detail_shows_collections_jobs_and_members(client, world):
    html = (
        login(client, world["alice"])
        .get(reverse("investigation-detail", args=[world["investigation"].pk]))
        .content.decode()
    )
    assert "ira-sample" in html
    assert reverse("job-detail", args=[world["job"].pk]) in html
    for name in ("alice", "bob", "carol"):
        assert name in html
    assert 'data-testid="member-form"' in html


def test_an_owner_adds_changes_and_removes_members(client, world):
    login(client, world["alice"])
    inv = world["investigation"]
    assert (
        client.post(reverse("member-set", args=[inv.pk]), {"username": "mallory", "role": "viewer"}).status_code == 302
    )
    assert Membership.objects.get(investigation=inv, user=world["mallory"]).role == Role.VIEWER
    client.post(reverse("member-set", args=[inv.pk]), {"username": "mallory", "role": "editor"})
    assert Membership.objects.get(investigation=inv, user=world["mallory"]).role == Role.EDITOR
    assert client.post(reverse("member-remove", args=[inv.pk]), {"username": "mallory"}).status_code == 302
    assert not Membership.objects.filter(investigation=inv, user=world["mallory"]).exists()


def test_it_shows_member_errors_on_the_form(client, world):
    login(client, world["alice"])
    url = reverse("member-set", args=[world["investigation"].pk])
    response = client.post(url, {"username": "nobody", "role": "viewer"})
    assert response.status_code == 400
    assert "No user named" in response.content.decode()
    response = client.post(url, {"username": "alice", "role": "viewer"})
    assert response.status_code == 400
    assert "at least one owner" in response.content.decode()
    assert Membership.objects.get(user=world["alice"]).role == Role.OWNER


def test_an_owner_deletes_an_investigation_after_confirming(client, world):
    login(client, world["alice"])
    url = reverse("investigation-delete", args=[world["investigation"].pk])
    assert "Delete for good" in client.get(url).content.decode()
    assert Investigation.objects.filter(pk=world["investigation"].pk).exists()
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("investigation-list")
    assert not Investigation.objects.filter(pk=world["investigation"].pk).exists()


def test_an_editor_cannot_delete_an_investigation(client, world):
    login(client, world["bob"])
    assert client.post(reverse("investigation-delete", args=[world["investigation"].pk])).status_code == 403


# --- collections -------------------------------------------------------------------------------------


def test_the_overview_embeds_the_figures_as_json(client, world):
    response = login(client, world["carol"]).get(reverse("collection-detail", args=[world["collection"].pk]))
    html = response.content.decode()
    figures = json.loads(
        html.split('<script id="collection-figures" type="application/json">')[1].split("</script>")[0]
    )
    assert figures["posts-per-day"]["data"][0]["x"] == ["2016-10-01"]
    assert figures["top-hashtags"]["data"][0]["y"] == ["maga"]
    assert "label-0" in figures
    assert 'data-testid="count-posts">1<' in html
    assert reverse("plotly-js") in html
    assert reverse("import-file-rejected", args=[world["import_file"].pk]) in html


def test_the_overview_of_an_empty_collection_renders(client, world):
    empty = Collection.objects.create(investigation=world["investigation"], name="empty")
    response = login(client, world["carol"]).get(reverse("collection-detail", args=[empty.pk]))
    assert response.status_code == 200
    assert "no posts yet" in response.content.decode()


def test_the_posts_page_paginates_and_filters_by_account(client, world):
    collection, account = world["collection"], Account.objects.get(handle="TEN_GOP")
    other = Account.objects.create(collection=collection, platform_id="2", handle="other")
    Post.objects.bulk_create(
        Post(
            collection=collection,
            platform_id=f"q{i}",
            account=other,
            text=f"post {i}",
            time=datetime(2016, 11, 1, tzinfo=timezone.utc),
        )
        for i in range(60)
    )
    login(client, world["carol"])
    url = reverse("collection-posts", args=[collection.pk])
    page1 = client.get(url).content.decode()
    assert "Page 1 of 2 · 61 rows" in page1
    assert "hello #maga" in page1
    filtered = client.get(url, {"account": account.pk}).content.decode()
    assert "hello #maga" in filtered and "post 1<" not in filtered


def test_the_rejected_rows_download_as_csv(client, world):
    response = login(client, world["carol"]).get(reverse("import-file-rejected", args=[world["import_file"].pk]))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    # A reason starting with "=" is quoted so a spreadsheet does not run it.
    assert rows == [["file", "line", "field", "reason"], ["tweets.csv", "3", "publish_date", "'=not a date"]]


def test_plotly_js_is_served_from_the_installed_package(client):
    response = client.get(reverse("plotly-js"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "max-age=31536000" in response["Cache-Control"]
    body = b"".join(response.streaming_content)
    assert b"plotly" in body[:2000].lower() and len(body) > 1_000_000


# --- upload ------------------------------------------------------------------------------------------


def _ira_csv(rows: int = 3) -> bytes:
    lines = [IRA_HEADER]
    for i in range(rows):
        lines.append(
            f"{1000 + i},TEN_GOP,Tweet number {i} #maga,United States,English,10/1/2016 1{i % 10}:00,"
            f"10/1/2016 19:00,100,2000,300,,Right,,RightTroll,0"
        )
    return ("\n".join(lines) + "\n").encode()


def test_an_editor_sees_the_upload_page(client, world):
    response = login(client, world["bob"]).get(reverse("collection-upload", args=[world["investigation"].pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="dropzone"' in html and "Auto-detect" in html
    assert 'value="ira-sample"' in html  # existing collections are offered


def test_an_editor_uploads_a_csv_and_starts_an_import_job(client, world, django_capture_on_commit_callbacks):
    login(client, world["bob"])
    upload = SimpleUploadedFile("ira_tweets.csv", _ira_csv(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            reverse("collection-upload", args=[world["investigation"].pk]),
            {"files": [upload], "collection": "", "format": "", "mapping": "", "labels": "source=test\nbatch = 1"},
            HTTP_ACCEPT="application/json",
        )
    assert response.status_code == 201, response.content
    body = response.json()
    job = Job.objects.get(pk=body["job_id"])
    assert body["job_url"] == reverse("job-detail", args=[job.pk])
    assert job.kind == "import" and job.status == Job.Status.QUEUED and job.created_by == world["bob"]
    assert Collection.objects.get(pk=job.params["collection_id"]).name == "ira_tweets"
    assert job.params["labels"] == {"source": "test", "batch": "1"}
    assert [f["name"] for f in job.params["files"]] == ["ira_tweets.csv"]
    assert len(callbacks) == 1  # the enqueue, after commit


def test_the_upload_reports_errors_as_json(client, world):
    login(client, world["bob"])
    jobs_before = Job.objects.count()
    url = reverse("collection-upload", args=[world["investigation"].pk])
    response = client.post(url, {"collection": "x"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and "files" in response.json()["errors"]
    upload = SimpleUploadedFile("a.csv", _ira_csv())
    response = client.post(url, {"files": [upload], "labels": "no equals sign"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and "labels" in response.json()["errors"]
    upload = SimpleUploadedFile("a.exe", b"MZ")
    response = client.post(url, {"files": [upload]}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and "files" in response.json()["errors"]
    assert Job.objects.count() == jobs_before


def test_the_preview_shows_format_columns_and_rows(client, world):
    login(client, world["bob"])
    upload = SimpleUploadedFile("tweets.csv", _ira_csv(8), content_type="text/csv")
    response = client.post(reverse("upload-preview", args=[world["investigation"].pk]), {"file": upload})
    assert response.status_code == 200
    preview = response.json()
    assert preview["columns"] == IRA_HEADER.split(",")
    assert len(preview["rows"]) == 5
    assert preview["format"]  # the IRA export is recognised
    assert not preview["error"]


def test_the_preview_needs_a_file(client, world):
    login(client, world["bob"])
    response = client.post(reverse("upload-preview", args=[world["investigation"].pk]))
    assert response.status_code == 400


# --- jobs --------------------------------------------------------------------------------------------


def test_the_job_list_shows_every_job(client, world):
    html = login(client, world["carol"]).get(reverse("job-list", args=[world["investigation"].pk])).content.decode()
    for job in (world["job"], world["queued"]):
        assert reverse("job-detail", args=[job.pk]) in html


def test_the_job_page_shows_state_error_and_buttons(client, world):
    login(client, world["bob"])
    html = client.get(reverse("job-detail", args=[world["job"].pk])).content.decode()
    assert 'data-testid="job-status">failed<' in html
    assert 'aria-valuenow="40"' in html
    assert "Traceback: boom" in html
    assert 'data-testid="job-retry"' in html
    assert reverse("collection-detail", args=[world["collection"].pk]) in html  # what a failed import left
    html = login(client, world["carol"]).get(reverse("job-detail", args=[world["job"].pk])).content.decode()
    assert 'data-testid="job-retry"' not in html and 'data-testid="job-cancel"' not in html


def test_an_editor_cancels_a_queued_job(client, world):
    login(client, world["bob"])
    response = client.post(reverse("job-cancel", args=[world["queued"].pk]))
    assert response.status_code == 302
    assert Job.objects.get(pk=world["queued"].pk).status == Job.Status.CANCELLED


def test_an_editor_retries_a_failed_job(client, world, django_capture_on_commit_callbacks):
    login(client, world["bob"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("job-retry", args=[world["job"].pk]))
    retry = Job.objects.get(retried_from=world["job"])
    assert response.status_code == 302 and response["Location"] == reverse("job-detail", args=[retry.pk])
    assert retry.created_by == world["bob"] and retry.status == Job.Status.QUEUED
    assert len(callbacks) == 1


def test_a_queued_job_cannot_be_retried(client, world):
    login(client, world["bob"])
    response = client.post(reverse("job-retry", args=[world["queued"].pk]), follow=True)
    assert "Only a failed or cancelled job can be retried" in response.content.decode()
    assert not Job.objects.filter(retried_from=world["queued"]).exists()


def test_a_succeeded_import_links_to_its_collection(client, world):
    collection = world["collection"]
    job = Job.objects.create(
        investigation=world["investigation"],
        kind="import",
        status=Job.Status.SUCCEEDED,
        progress=1.0,
        result={"collection_id": collection.pk, "collection": collection.name, "files": []},
    )
    html = login(client, world["carol"]).get(reverse("job-detail", args=[job.pk])).content.decode()
    assert 'data-testid="job-status">succeeded<' in html and 'aria-valuenow="100"' in html
    assert f'data-testid="job-collection-link" href="{reverse("collection-detail", args=[collection.pk])}"' in html
