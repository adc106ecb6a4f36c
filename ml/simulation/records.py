"""The simulation's own records: accounts, posts and the time window, before they become CSV rows."""
from __future__ import annotations

from dataclasses import dataclass, field

ORGANIC, SEED, OPERATION = "organic", "seed", "operation"


@dataclass(eq=False)
class Account:
    userid: str
    handle: str
    display_name: str
    role: str  # organic | seed | operation (seeds are operation accounts too)
    created: str  # YYYY-MM-DD
    followers: int
    following: int
    client: str
    location: str = ""
    description: str = ""
    profile_url: str = ""
    # How the account behaves: its mean posts a day, and its waking day in its own time zone.
    rate: float = 1.0
    utc_offset: int = 0
    active_from: float = 8.0
    active_hours: float = 14.0
    topics: tuple[str, ...] = ("life",)
    friends: list[Account] = field(default_factory=list)


@dataclass(eq=False)
class Post:
    time: float  # UTC epoch seconds, exact; the CSV keeps the minute, the tweet id keeps the millisecond
    author: Account
    text: str
    kind: str = "post"  # post | retweet | quote | reply
    hashtags: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    mentions: list[Account] = field(default_factory=list)
    ref: Post | None = None  # what a retweet, quote or reply points at
    narrative: tuple[str, dict] | None = None  # a seed's (template, choices), for near-duplicate copies
    tweetid: str = ""
    retweets: int = 0
    quotes: int = 0
    replies: int = 0


@dataclass(frozen=True)
class Window:
    start: float  # epoch seconds, inclusive
    end: float  # exclusive
    event: float  # the operation intensifies from here

    def contains(self, t: float) -> bool:
        return self.start <= t < self.end


def retweet_of(original: Post, author: Account, time: float) -> Post:
    """A retweet as the archive shows it: 'RT @handle: text', carrying the original's entities."""
    return Post(
        time=time, author=author, kind="retweet", ref=original,
        text=f"RT @{original.author.handle}: {original.text}",
        hashtags=list(original.hashtags), urls=list(original.urls),
        mentions=[original.author, *(m for m in original.mentions if m is not original.author)],
    )
