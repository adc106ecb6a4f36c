"""One upload service for the page and the API: a refused upload leaves no file behind, and labels are read
the same way by the page, the API and ``manage.py import_collection``."""
from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from apps.collections import services
from apps.collections.models import Collection
from apps.jobs.models import Job

pytestmark = pytest.mark.django_db

CSV = b"user,message,when\nann,hello there,2020-01-01 10:00\n"
BAD_LABEL = "no equals sign"
BAD_LABEL_MESSAGE = "Write each label as key=value (got 'no equals sign')."


def upload(name: str = "posts.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, CSV, content_type="text/csv")


def kept_uploads() -> list[str]:
    """Every file under MEDIA_ROOT/uploads (the tests' own temp folder)."""
    root = settings.MEDIA_ROOT / "uploads"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def api_import(api, investigation, **fields):
    url = reverse("api-import-start", args=[investigation.pk])
    return api.post(url, {"files": [upload()], **fields}, format="multipart")


def page_import(client, investigation, **fields):
    url = reverse("collection-upload", args=[investigation.pk])
    return client.post(url, {"files": [upload()], **fields}, HTTP_ACCEPT="application/json")


def test_an_accepted_api_upload_keeps_its_file_for_the_job(api_for, investigation):
    response = api_import(api_for("bob"), investigation, collection="c", mapping='{"text": "message"}')
    assert response.status_code == 201, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert [f["name"] for f in job.params["files"]] == ["posts.csv"]
    assert kept_uploads() == [f"{job.params['files'][0]['path'].split('/')[-2]}/posts.csv"]


def test_an_api_upload_with_an_unknown_format_leaves_no_file_behind(api_for, investigation):
    response = api_import(api_for("bob"), investigation, collection="c", format="telegram_dump")
    assert response.status_code == 400 and "format" in response.json()
    assert kept_uploads() == [] and Job.objects.count() == 0


def test_an_api_upload_with_a_bad_mapping_leaves_no_file_behind(api_for, investigation):
    response = api_import(api_for("bob"), investigation, collection="c", mapping='{"sentiment": "message"}')
    assert response.status_code == 400
    assert "Unknown field 'sentiment'" in response.json()["mapping"][0]
    assert kept_uploads() == [] and not Collection.objects.filter(name="c").exists()


def test_a_page_upload_with_a_bad_mapping_leaves_no_file_behind(client_for, investigation):
    response = page_import(client_for("bob"), investigation, collection="c", mapping='{"sentiment": "message"}')
    assert response.status_code == 400
    assert "Unknown field 'sentiment'" in response.json()["errors"]["mapping"][0]
    assert kept_uploads() == [] and Job.objects.count() == 0


def test_a_start_that_fails_for_any_reason_removes_the_saved_files(investigation, users, monkeypatch):
    def broken_job_create(**kwargs):
        raise RuntimeError("the broker is down")

    monkeypatch.setattr(services, "job_create", broken_job_create)
    with pytest.raises(RuntimeError, match="broker"):
        services.upload_import_start(investigation=investigation, user=users["bob"], files=[upload()])
    assert kept_uploads() == []


def test_a_file_of_another_type_is_refused_before_anything_is_written(api_for, investigation):
    response = api_import(api_for("bob"), investigation, collection="c", files=[upload("tool.exe")])
    assert response.status_code == 400 and "Not a supported file type: tool.exe" in response.json()["files"][0]
    assert kept_uploads() == []


def test_the_api_names_the_collection_after_the_first_file_like_the_page(api_for, investigation):
    response = api_import(api_for("bob"), investigation, files=[upload("ira_tweets_2018.csv.gz")], format="ira_538")
    assert response.status_code == 201, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert Collection.objects.get(pk=job.params["collection_id"]).name == "ira_tweets_2018"


def test_the_page_the_api_and_the_command_read_labels_alike(api_for, client_for, investigation, tmp_path):
    text = "source=takedown\n# a comment\n\nbatch = 2 "
    api_job = Job.objects.get(pk=api_import(api_for("bob"), investigation, collection="c", labels=text).json()["id"])
    page_response = page_import(client_for("bob"), investigation, collection="c", labels=text)
    page_job = Job.objects.get(pk=page_response.json()["job_id"])
    assert api_job.params["labels"] == page_job.params["labels"] == {"source": "takedown", "batch": "2"}
    assert services.labels_parse(["source=takedown", "batch = 2 "]) == api_job.params["labels"]  # the --label options


def test_the_page_the_api_and_the_command_refuse_a_bad_label_with_the_same_words(
    api_for, client_for, investigation, users, tmp_path
):
    api_response = api_import(api_for("bob"), investigation, collection="c", labels=f"a=1\n{BAD_LABEL}")
    page_response = page_import(client_for("bob"), investigation, collection="c", labels=f"a=1\n{BAD_LABEL}")
    path = tmp_path / "posts.csv"
    path.write_bytes(CSV)
    with pytest.raises(CommandError) as command_error:
        call_command(
            "import_collection", str(path), investigation=investigation.name, user="bob", label=["a=1", BAD_LABEL]
        )
    assert api_response.json()["labels"] == [BAD_LABEL_MESSAGE]
    assert page_response.json()["errors"]["labels"] == [BAD_LABEL_MESSAGE]
    assert str(command_error.value) == f"--label: {BAD_LABEL_MESSAGE}"
    assert kept_uploads() == [] and Job.objects.count() == 0


def test_labels_parse_refuses_a_label_without_a_key():
    with pytest.raises(ValidationError) as error:
        services.labels_parse("=orphan")
    assert error.value.messages == ["Write each label as key=value (got '=orphan')."]
