"""The demo's synthetic operation: reproducible, in the archive's exact layout, with the coordination
a detector should find (seed posts echoed within minutes) and residents who answer hours later."""
from __future__ import annotations

import csv
import difflib
import gzip
import io
import json
import math
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from django.core.management import call_command

from ml.simulation import (
    X_ARCHIVE_COLUMNS,
    OperationConfig,
    operation_truth,
    simulate_operation,
    snowflake_time,
    write_operation_csv,
)

SMALL = OperationConfig(days=8, organic_accounts=80, operation_accounts=15, seed_accounts=3)


@pytest.fixture(scope="module")
def rows():
    return list(simulate_operation(SMALL))


@pytest.fixture(scope="module")
def truth():
    return operation_truth(SMALL)


def by_id(rows):
    return {row["tweetid"]: row for row in rows}


def minute(row):
    return datetime.strptime(row["tweet_time"], "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc)


def campaign_share(rows, tags):
    with_tag = [r for r in rows if {t.lower() for t in r["hashtags"].strip("[]").split(", ")} & tags]
    return len(with_tag) / len(rows)


def test_the_same_seed_writes_identical_bytes(tmp_path):
    first = write_operation_csv(tmp_path / "a" / "demo.csv.gz", SMALL)
    second = write_operation_csv(tmp_path / "b" / "demo.csv.gz", SMALL)
    assert (tmp_path / "a/demo.csv.gz").read_bytes() == (tmp_path / "b/demo.csv.gz").read_bytes()
    assert (tmp_path / "a/demo.truth.json").read_bytes() == (tmp_path / "b/demo.truth.json").read_bytes()
    assert first["rows"] == second["rows"] > 0


def test_a_different_seed_writes_different_data(tmp_path):
    write_operation_csv(tmp_path / "seven.csv", SMALL)
    write_operation_csv(tmp_path / "eight.csv", replace(SMALL, seed=8))
    assert (tmp_path / "seven.csv").read_bytes() != (tmp_path / "eight.csv").read_bytes()
    seven = json.loads((tmp_path / "seven.truth.json").read_text())["operation_userids"]
    eight = json.loads((tmp_path / "eight.truth.json").read_text())["operation_userids"]
    assert not set(seven) & set(eight)


def test_it_writes_the_archive_columns_in_order(tmp_path):
    write_operation_csv(tmp_path / "demo.csv.gz", SMALL)
    with gzip.open(tmp_path / "demo.csv.gz", "rt", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        assert all(len(line) == len(header) for line in reader)
    assert header == X_ARCHIVE_COLUMNS
    assert X_ARCHIVE_COLUMNS[0] == "tweetid" and X_ARCHIVE_COLUMNS[-1] == "poll_choices" and len(header) == 31


def test_cells_follow_the_archive_formats(rows):
    listed = re.compile(r"^\[\]$|^\[[^\[\],]+(, [^\[\],]+)*\]$")
    for row in rows:
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", row["tweet_time"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", row["account_creation_date"])
        assert row["is_retweet"] in {"True", "False"}
        assert all(listed.match(row[c]) for c in ("hashtags", "urls", "user_mentions")), row
        assert "#" not in row["hashtags"]
        assert all(u.startswith("https://") for u in row["urls"].strip("[]").split(", ") if u)
        assert all(m.isdigit() for m in row["user_mentions"].strip("[]").split(", ") if m)


def test_ids_are_unique_numeric_strings(rows):
    tweet_ids = [row["tweetid"] for row in rows]
    assert len(set(tweet_ids)) == len(tweet_ids) and all(t.isdigit() for t in tweet_ids)
    assert all(row["userid"].isdigit() for row in rows)
    handles = {row["userid"]: row["user_screen_name"] for row in rows}
    assert len(set(handles.values())) == len(handles)


def test_every_post_falls_inside_the_window(rows):
    start = datetime(2024, 3, 1, tzinfo=timezone.utc)
    end = start + timedelta(days=SMALL.days)
    assert all(start <= minute(row) < end for row in rows)
    assert all(start <= snowflake_time(row["tweetid"]) < end for row in rows)
    assert all(minute(row) == snowflake_time(row["tweetid"]).replace(second=0, microsecond=0) for row in rows)


def test_every_operation_retweet_echoes_a_seed_post_within_the_lag_bounds(rows, truth):
    posts, seeds, operation = by_id(rows), set(truth["seed_userids"]), set(truth["operation_userids"])
    low, high = SMALL.lag_seconds
    echoes = [r for r in rows if r["is_retweet"] == "True" and r["userid"] in operation]
    assert len(echoes) > 50
    for echo in echoes:
        original = posts[echo["retweet_tweetid"]]
        assert original["userid"] in seeds and echo["retweet_userid"] == original["userid"]
        lag = (snowflake_time(echo["tweetid"]) - snowflake_time(original["tweetid"])).total_seconds()
        assert low - 0.002 <= lag <= high + 0.002  # ids keep milliseconds
        assert 0 <= (minute(echo) - minute(original)).total_seconds() <= math.ceil(high / 60) * 60
        assert echo["tweet_text"] == f"RT @{original['user_screen_name']}: {original['tweet_text']}"


def test_residents_retweet_and_reply_hours_later(rows, truth):
    posts, operation = by_id(rows), set(truth["operation_userids"])
    low, high = SMALL.organic_lag_hours
    responses = [r for r in rows if r["userid"] not in operation and (r["retweet_tweetid"] or r["in_reply_to_tweetid"])]
    assert len(responses) > 20
    for response in responses:
        original = posts[response["retweet_tweetid"] or response["in_reply_to_tweetid"]]
        hours = (snowflake_time(response["tweetid"]) - snowflake_time(original["tweetid"])).total_seconds() / 3600
        assert low <= hours <= high and original["userid"] != response["userid"]


def test_quotes_point_at_seed_posts(rows, truth):
    posts = by_id(rows)
    quotes = [r for r in rows if r["quoted_tweet_tweetid"]]
    assert quotes and all(posts[q["quoted_tweet_tweetid"]]["userid"] in truth["seed_userids"] for q in quotes)


def test_operation_accounts_use_campaign_hashtags_far_more_than_residents(rows, truth):
    tags = {t.lower() for t in (*SMALL.campaign_hashtags, *SMALL.event_hashtags)}
    operation = [r for r in rows if r["userid"] in truth["operation_userids"]]
    residents = [r for r in rows if r["userid"] not in truth["operation_userids"]]
    assert campaign_share(operation, tags) > 0.5
    assert campaign_share(residents, tags) < 0.05
    assert campaign_share(operation, tags) > 10 * campaign_share(residents, tags)


def test_amplifiers_post_near_duplicates_of_seed_posts(rows, truth):
    seed_texts = [r["tweet_text"] for r in rows if r["userid"] in truth["seed_userids"] and r["urls"] != "[]"]
    copies = [r["tweet_text"] for r in rows if r["userid"] in truth["operation_userids"]
              and r["userid"] not in truth["seed_userids"] and r["is_retweet"] == "False" and r["urls"] != "[]"]
    near = [c for c in copies if c not in seed_texts and any(
        difflib.SequenceMatcher(None, c, s).ratio() > 0.8 for s in seed_texts)]
    assert len(near) > 20


def test_the_operation_intensifies_after_the_event(rows, truth):
    event = datetime.fromisoformat(truth["event_date"]).replace(tzinfo=timezone.utc)
    seed_posts = [r for r in rows if r["userid"] in truth["seed_userids"]]
    before = sum(minute(r) < event for r in seed_posts)
    assert len(seed_posts) - before > 1.5 * before


def test_the_operation_accounts_are_young_and_little_followed(rows, truth):
    accounts = {r["userid"]: r for r in rows}
    amplifiers = [accounts[u] for u in truth["operation_userids"] if u not in truth["seed_userids"]]
    assert all(r["account_creation_date"] >= "2024-01-01" and int(r["follower_count"]) <= 40 for r in amplifiers)


def test_the_truth_names_the_operation(truth):
    assert len(truth["operation_userids"]) == SMALL.operation_accounts
    assert set(truth["seed_userids"]) <= set(truth["operation_userids"]) and len(truth["seed_userids"]) == 3
    assert truth["event_date"] == "2024-03-05" and truth["config"]["seed"] == SMALL.seed


def test_the_default_demo_is_a_few_tens_of_thousands_rows():
    assert 15_000 <= sum(1 for _ in simulate_operation(OperationConfig())) <= 30_000


def test_it_rejects_an_impossible_config():
    with pytest.raises(ValueError, match="seed_accounts"):
        OperationConfig(operation_accounts=2, seed_accounts=4)
    with pytest.raises(ValueError, match="start"):
        OperationConfig(start="March 1st")


def test_the_command_prints_one_json_line(tmp_path):
    stdout = io.StringIO()
    out = tmp_path / "demo.csv.gz"
    call_command("simulate_operation", "--out", str(out), "--seed", "3", "--days", "4", "--organic", "30",
                 "--operation", "6", stdout=stdout)
    lines = stdout.getvalue().strip().splitlines()
    summary = json.loads(lines[-1])
    assert len(lines) == 1 and summary["command"] == "simulate_operation"
    assert summary["seed"] == 3 and summary["operation_accounts"] == 6 and summary["out"] == str(out)
    assert summary["rows"] == len(gzip.decompress(out.read_bytes()).decode().splitlines()) - 1
    assert json.loads((tmp_path / "demo.truth.json").read_text())["seed_userids"]
    assert summary["truth"] == str(tmp_path / "demo.truth.json")
