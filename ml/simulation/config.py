"""The synthetic operation's settings: who posts, how much, and how the operation behaves (checked on creation)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class OperationConfig:
    seed: int = 7
    start: str = "2024-03-01"  # UTC date the window opens
    days: int = 30
    organic_accounts: int = 300
    operation_accounts: int = 40  # seeds included
    seed_accounts: int = 4  # the operation's leaders whose posts the others amplify

    # Residents. Each account's mean posts a day is drawn log-uniform in this range: most are quiet.
    organic_posts_per_day: tuple[float, float] = (0.2, 6.0)
    organic_hashtag_share: float = 0.3
    organic_link_share: float = 0.2
    organic_mention_share: float = 0.12
    organic_retweet_share: float = 0.08
    organic_reply_share: float = 0.06
    organic_lag_hours: tuple[float, float] = (0.5, 48.0)  # residents answer hours later, not seconds
    organic_campaign_share: float = 0.01  # residents joining the dam debate with a campaign hashtag

    # The operation.
    operation_hours: tuple[float, float] = (7.0, 15.0)  # its UTC shift: every account posts inside it
    waves_per_day: float = 3.0  # bursts of narrative posts by the seeds, before the event
    event_intensity: float = 2.5  # waves a day multiply by this from the event on
    event_day: int | None = None  # days after start; None: halfway
    amplify_probability: float = 0.35  # each amplifier's chance to echo a given narrative post
    retweet_share: float = 0.6  # of the echoes: plain retweets of a seed ...
    quote_share: float = 0.15  # ... quotes; the rest are near-duplicate copies (same links and hashtags)
    lag_seconds: tuple[float, float] = (5.0, 300.0)  # echo lag, log-uniform: mostly seconds, up to minutes
    filler_posts_per_day: float = 0.7  # everyday cover chatter per operation account
    narrative_link_share: float = 0.7
    narrative_mention_share: float = 0.3  # narratives tagging the town's council or paper
    campaign_hashtags: tuple[str, ...] = ("StopTheDamDeal", "ClearwaterTruth", "WakeUpRiverton")
    event_hashtags: tuple[str, ...] = ("DamVoteRigged",)  # only after the event
    campaign_domains: tuple[str, ...] = (
        "patriot-daily-news.example", "clearwater-truth.example", "real-river-report.example",
        "freedom-wire-now.example",
    )

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise ValueError("invalid OperationConfig: " + "; ".join(problems))

    @property
    def event_date(self) -> date:
        offset = self.days // 2 if self.event_day is None else self.event_day
        return date.fromisoformat(self.start) + timedelta(days=offset)


def _problems(config: OperationConfig) -> list[str]:
    seeds_fit = 0 <= config.seed_accounts <= config.operation_accounts
    seeds_lead = (config.seed_accounts > 0) == (config.operation_accounts > 0)  # an operation needs a leader
    checks = {
        "start must be an ISO date (YYYY-MM-DD)": _is_date(config.start),
        "days must be at least 1": config.days >= 1,
        "account counts must not be negative": min(config.organic_accounts, config.operation_accounts) >= 0,
        "seed_accounts must be between 1 and operation_accounts (0 only with no operation)": seeds_fit and seeds_lead,
        "shares must lie in [0, 1]": all(0 <= share <= 1 for share in _shares(config)),
        "retweet_share + quote_share must not exceed 1": config.retweet_share + config.quote_share <= 1,
        "lag_seconds must be 0 < low <= high": _is_range(config.lag_seconds),
        "organic_lag_hours must be 0 < low <= high": _is_range(config.organic_lag_hours),
        "organic_posts_per_day must be 0 < low <= high": _is_range(config.organic_posts_per_day),
        "operation_hours must be 0 <= from <= to <= 24": 0
        <= config.operation_hours[0]
        <= config.operation_hours[1]
        <= 24,
        "event_day must lie within the window": config.event_day is None or 0 <= config.event_day < config.days,
        "campaign_hashtags and campaign_domains must not be empty": bool(
            config.campaign_hashtags and config.campaign_domains
        ),
    }
    return [message for message, ok in checks.items() if not ok]


def _is_range(bounds: tuple[float, float]) -> bool:
    return 0 < bounds[0] <= bounds[1]


def _shares(config: OperationConfig) -> list[float]:
    return [
        config.organic_hashtag_share,
        config.organic_link_share,
        config.organic_mention_share,
        config.organic_retweet_share + config.organic_reply_share,
        config.organic_campaign_share,
        config.amplify_probability,
        config.retweet_share,
        config.quote_share,
        config.narrative_link_share,
        config.narrative_mention_share,
    ]


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except (TypeError, ValueError):
        return False
    return True
