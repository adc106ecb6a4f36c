"""Brute force: Mallory guesses Alice's password 30 times in a few seconds. After the limit the right
password is refused too, with a message, on the login form and on the API's Basic auth; Alice from
another address is refused (the account is locked), Bob from another address is not."""
from __future__ import annotations

import base64

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db
TRIES = 30


def form_login(username: str, password: str, address: str):
    return Client(REMOTE_ADDR=address).post("/login/", {"username": username, "password": password})


def basic_get(username: str, password: str, address: str):
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return Client(REMOTE_ADDR=address).get("/api/investigations/", HTTP_AUTHORIZATION=f"Basic {token}")


def test_it_refuses_the_right_password_on_the_form_after_many_wrong_ones(users):
    for _ in range(TRIES):
        form_login("alice", "guess", "10.0.0.66")
    refused = form_login("alice", "alice-pass-123", "10.0.0.66")
    assert refused.status_code == 429
    assert "Too many failed logins" in refused.content.decode()
    assert form_login("alice", "alice-pass-123", "10.0.0.7").status_code == 429  # the account, from anywhere
    assert form_login("bob", "bob-pass-123", "10.0.0.66").status_code == 429  # the address, for anyone
    assert form_login("bob", "bob-pass-123", "10.0.0.8").status_code == 302  # others are unaffected


def test_it_refuses_the_right_password_on_basic_auth_after_many_wrong_ones(users):
    for _ in range(TRIES):
        assert basic_get("alice", "guess", "10.0.0.66").status_code in (401, 403, 429)
    refused = basic_get("alice", "alice-pass-123", "10.0.0.66")
    assert refused.status_code == 429
    assert "Too many failed logins" in refused.json()["detail"]
    assert basic_get("alice", "alice-pass-123", "10.0.0.7").status_code == 429
    assert basic_get("bob", "bob-pass-123", "10.0.0.8").status_code == 200


def test_it_lets_a_few_mistakes_pass(users):
    for _ in range(3):
        form_login("alice", "guess", "10.0.0.9")
    assert form_login("alice", "alice-pass-123", "10.0.0.9").status_code == 302
