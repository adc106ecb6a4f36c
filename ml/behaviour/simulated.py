"""The demo generator's archive rows (``ml.simulation.simulate_operation``) as interaction columns, the way the
portal's ingest and ``apps.analyses.behaviour_selectors`` derive them: a plain post is a "post" step on itself;
retweets, quotes and replies point at the original post; hashtags, URLs, their domains and mentions are entities.
For tests and benchmarks: no database needed."""
from __future__ import annotations

from urllib.parse import urlsplit


def _items(cell: str) -> list[str]:
    inner = cell.strip()[1:-1].strip()
    return [item.strip() for item in inner.split(",") if item.strip()] if inner else []


def archive_interactions(rows) -> dict[str, list]:
    from ml.simulation import snowflake_time

    columns: dict[str, list] = {"account": [], "action": [], "target": [], "time": []}

    def add(account, action, target, when):
        for key, value in zip(columns, (account, action, target, when)):
            columns[key].append(value)

    for row in rows:
        account, when = row["userid"], snowflake_time(row["tweetid"]).timestamp()
        if row["is_retweet"] == "True":
            add(account, "repost", f"post:{row['retweet_tweetid']}", when)
        elif row["quoted_tweet_tweetid"]:
            add(account, "quote", f"post:{row['quoted_tweet_tweetid']}", when)
        elif row["in_reply_to_tweetid"]:
            add(account, "reply", f"post:{row['in_reply_to_tweetid']}", when)
        else:
            add(account, "post", f"post:{row['tweetid']}", when)
        for tag in _items(row["hashtags"]):
            add(account, "hashtag", f"hashtag:{tag.lower()}", when)
        for url in _items(row["urls"]):
            add(account, "url", f"url:{url}", when)
            add(account, "domain", f"domain:{urlsplit(url).netloc.lower()}", when)
        for mention in _items(row["user_mentions"]):
            add(account, "mention", f"mention:{mention}", when)
    return columns
