from __future__ import annotations

from django.db.models import QuerySet

from apps.collections.models import Account, Collection, ImportFile, Post, RejectedRow
from apps.investigations.models import Investigation, Role
from apps.investigations.selectors import member_object_get


def collection_list(*, investigation: Investigation) -> QuerySet[Collection]:
    return Collection.objects.filter(investigation=investigation).order_by("name")


def collection_get(*, user, collection_id: int, role: str = Role.VIEWER) -> Collection:
    return member_object_get(
        user=user, queryset=Collection.objects.select_related("investigation"), pk=collection_id, role=role
    )


def post_list(*, collection: Collection, account_id: int | None = None) -> QuerySet[Post]:
    posts = Post.objects.filter(collection=collection).select_related("account").order_by("time", "id")
    if account_id is not None:
        posts = posts.filter(account_id=account_id)
    return posts


def account_list(*, collection: Collection) -> QuerySet[Account]:
    """The collection's posting accounts (not the placeholder authors of posts whose file named none)."""
    return Account.objects.filter(collection=collection, observed=True, placeholder=False).order_by("handle", "id")


def import_file_list(*, collection: Collection | None = None, job=None) -> QuerySet[ImportFile]:
    files = ImportFile.objects.all()
    if collection is not None:
        files = files.filter(collection=collection)
    if job is not None:
        files = files.filter(job=job)
    return files.order_by("id")


def import_file_get(*, user, import_file_id: int) -> ImportFile:
    return member_object_get(
        user=user,
        queryset=ImportFile.objects.select_related("collection__investigation"),
        pk=import_file_id,
        via="collection__investigation",
    )


def rejected_row_list(*, import_file: ImportFile) -> QuerySet[RejectedRow]:
    return RejectedRow.objects.filter(import_file=import_file).order_by("line", "id")
