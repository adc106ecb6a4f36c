"""Personas shared by the suite: Alice owns an investigation, Bob edits it, Carol views it, Mallory
is no member of it (she owns one of her own)."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent: the real-data tests need ../shared/data beside the checkout")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path, tmp_path_factory):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Tests build tiny base models in their temp folders: allow those as base-model directories.
    settings.MURMURATION = {**settings.MURMURATION, "BASE_MODEL_DIRS": [str(tmp_path_factory.getbasetemp())]}
    # Most tests make four users: a deliberately slow password hash would cost seconds each (not what is tested).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    # django-axes counts failed logins in Django's cache: each test starts with none.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def users(django_user_model):
    return {
        name: django_user_model.objects.create_user(name, password=f"{name}-pass-123")
        for name in ("alice", "bob", "carol", "mallory")
    }


@pytest.fixture
def investigation(users):
    from apps.investigations.services import investigation_create, member_set

    inv = investigation_create(user=users["alice"], name="Operation Ghostwriter")
    member_set(investigation=inv, username="bob", role="editor")
    member_set(investigation=inv, username="carol", role="viewer")
    investigation_create(user=users["mallory"], name="Mallory's own")
    return inv


@pytest.fixture
def client_for(client, users):
    def login(name: str):
        client.force_login(users[name])
        return client

    return login


@pytest.fixture
def api_for(users):
    from rest_framework.test import APIClient

    def login(name: str) -> APIClient:
        api = APIClient()
        api.force_authenticate(users[name])
        return api

    return login
