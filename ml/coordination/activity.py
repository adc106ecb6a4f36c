"""From posts to per-entity binary activity: the observations of the influence model (docs/methods.md §influence
model, paper §4.1)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from ml.checks import check_columns
from ml.entities import normalize_url


def normalise_url(url: str) -> str:
    """Strip the protocol, subdomains and query, as the paper does, so one story is one entity.

    The same rule the importers apply at ingest (``ml.entities.normalize_url``: the registrable
    domain from the public-suffix list, so news.bbc.co.uk -> bbc.co.uk), for raw tables."""
    return normalize_url(str(url).strip())


def events_from_posts(posts: pd.DataFrame, *, account="account", time="time",
                      columns=(("hashtag", "hashtags"), ("mention", "mentions"), ("url", "urls")),
                      post_id: str | None = None) -> pd.DataFrame:
    """Explode space-separated entity columns (the IRA layout) into the events table.

    Returns columns account, entity ("hashtag:maga"), entity_type, time (and post_id if given)."""
    frames = []
    for entity_type, column in columns:
        keep = [account, time, column] + ([post_id] if post_id else [])
        part = posts[keep].dropna(subset=[column])
        values = part[column].astype(str).str.split()
        part = part.assign(value=values).explode("value").dropna(subset=["value"])
        norm = part["value"].map(normalise_url) if entity_type == "url" else part["value"].str.lower().str.lstrip("#@")
        frames.append(pd.DataFrame({
            "account": part[account].to_numpy(), "entity": (entity_type + ":" + norm).to_numpy(),
            "entity_type": entity_type, "time": part[time].to_numpy(),
            **({"post_id": part[post_id].to_numpy()} if post_id else {}),
        }))
    return pd.concat(frames, ignore_index=True)


def to_seconds(values) -> np.ndarray:
    """Unix seconds from datetime64, pandas timestamps, strings or numbers."""
    series = pd.Series(values)
    if pd.api.types.is_numeric_dtype(series):
        return series.to_numpy(dtype=float)
    stamps = pd.to_datetime(series, utc=True)
    return (stamps - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()


@dataclass(frozen=True)
class Activity:
    """Binary activity of accounts per entity: one row per distinct (account, entity, bin).

    account/entity are codes into `accounts`/`entities`; bins run 0..n_bins-1 from `start`."""
    accounts: np.ndarray
    entities: np.ndarray
    entity_types: np.ndarray   # type of each entity, aligned with `entities`
    account: np.ndarray
    entity: np.ndarray
    bin: np.ndarray
    n_bins: int
    start: float
    bin_seconds: float

    def account_entity_counts(self, shift: int) -> sparse.csr_matrix:
        """Active bins per (account, entity), counting bins 1.. (shift=1) or ..T-2 (shift=0).

        The transition counts see bin k-1 -> k, so an account's last bin never leads and its first
        bin never follows."""
        keep = self.bin >= 1 if shift else self.bin <= self.n_bins - 2
        shape = (len(self.accounts), len(self.entities))
        counts = sparse.coo_matrix((np.ones(keep.sum()), (self.account[keep], self.entity[keep])), shape=shape)
        return counts.tocsr()


def build_activity(events: pd.DataFrame, *, bin_seconds: float, accounts=None,
                   start: float | None = None, end: float | None = None) -> Activity:
    """Bin the events; `accounts` fixes the row order (others are dropped); start/end fix the grid.

    Columnar throughout (no frame of the rows is built, no column of strings is copied): labels are factorised
    once and only their few distinct values are looked up, so 18 M events take seconds, not a minute.
    1. bins on the grid; the events inside it;
    2. account codes: the distinct labels mapped to `accounts`' order, then taken per row;
    3. entity codes in order of first appearance among the kept rows; events with no entity are dropped;
    4. one row per distinct (account, entity, bin), the first of each, in the events' order."""
    check_columns(events, ("account", "entity", "entity_type", "time"), "the events table")
    seconds = to_seconds(events["time"])
    start = float(np.nanmin(seconds)) if start is None else float(start)
    end = float(np.nanmax(seconds)) if end is None else float(end)
    n_bins = int((end - start) // bin_seconds) + 1
    bins = np.floor((seconds - start) / bin_seconds)
    inside = (bins >= 0) & (bins < n_bins)
    labels, distinct = pd.factorize(events["account"], use_na_sentinel=False)
    if accounts is None:
        present = distinct[np.flatnonzero(np.bincount(labels[inside], minlength=len(distinct)))]
        accounts = np.array(sorted(present, key=str), dtype=object)
    account = pd.Index(accounts).get_indexer(distinct)[labels]
    entity, entities = pd.factorize(events["entity"])
    rows = np.flatnonzero(inside & (account >= 0) & (entity >= 0))
    entity, first_seen = pd.factorize(entity[rows])
    account, bins = account[rows], bins[rows].astype(np.int64)
    once = _first_of_each(account, entity, bins, len(first_seen), n_bins)
    rows, account, entity, bins = rows[once], account[once], entity[once], bins[once]
    firsts = rows[np.flatnonzero(entity > np.maximum.accumulate(np.concatenate([[-1], entity[:-1]])))]
    return Activity(
        np.asarray(accounts, dtype=object),
        np.asarray(entities.take(first_seen), dtype=object),
        events["entity_type"].iloc[firsts].to_numpy(dtype=object),
        account.astype(np.int64),
        entity.astype(np.int64),
        bins,
        n_bins,
        start,
        float(bin_seconds),
    )


def _first_of_each(account: np.ndarray, entity: np.ndarray, bins: np.ndarray, n_entities: int, n_bins: int):
    """Positions of the first row of each distinct (account, entity, bin), in order.

    One sort of int64 keys with the row's position packed in below (a sort is ~10x a hash table's time at
    18 M keys here); pandas' duplicated where the packed key would overflow."""
    rows = len(account)
    span = (int(account.max(initial=0)) + 1) * max(n_entities, 1) * n_bins
    if span * max(rows, 1) >= 2**63:
        frame = pd.DataFrame({"account": account, "entity": entity, "bin": bins})
        return np.flatnonzero(~frame.duplicated(keep="first"))
    packed = np.sort(((account.astype(np.int64) * n_entities + entity) * n_bins + bins) * rows + np.arange(rows))
    key = packed // rows
    first = np.concatenate([[True], key[1:] != key[:-1]]) if rows else np.zeros(0, bool)
    return np.sort(packed[first] - key[first] * rows)
