"""Generated input files for tests (the real datasets stay in ../shared/data; nothing is copied)."""
from __future__ import annotations

import csv
import gzip
import random
from datetime import datetime, timedelta
from pathlib import Path

IRA_HEADER = [
    "external_author_id", "author", "content", "region", "language", "publish_date", "harvested_date", "following",
    "followers", "updates", "post_type", "account_type", "retweet", "account_category", "new_june_2018",
]
CATEGORIES = ["RightTroll", "LeftTroll", "NewsFeed", "HashtagGamer", "Fearmonger"]
WORDS = "vote rally news border economy police truth media crowd election city storm jobs video".split()


def write_ira_csv(path: Path, rows: int, *, seed: int = 1, accounts: int = 50) -> Path:
    """A FiveThirtyEight-IRA-shaped CSV (gzipped when the name ends .gz) with hashtags, mentions, links."""
    rng = random.Random(seed)
    start = datetime(2016, 9, 1)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(IRA_HEADER)
        for i in range(rows):
            a = rng.randrange(accounts)
            when = (start + timedelta(minutes=i)).strftime("%Y-%m-%d %H:%M:%S")
            text = " ".join(rng.choices(WORDS, k=8)) + f" #{rng.choice(WORDS)} @user{rng.randrange(9)} https://www.site{rng.randrange(5)}.com/p/{i}"
            out.writerow([
                str(1000 + a), f"troll_{a}", text, "United States", "English", when, when, "10", "20", "30", "",
                "Right", "0", CATEGORIES[a % len(CATEGORIES)], "0",
            ])
    return path
