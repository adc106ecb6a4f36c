"""Interaction rows → one sequence per account, in time order, as TIES reads them.

Input is plain columns (lists or numpy arrays of one length), as the portal's selectors hand them over:
``account`` (any hashable id), ``action`` (one of ``ACTIONS``), ``target`` ("type:value", e.g. "hashtag:maga",
"post:1763…", "domain:bbc.co.uk"), ``time`` (epoch seconds, or datetimes).

Each step is (source, target, action, time): the source is the account itself ("account:<id>"), the target an
entity whose type is the text before its first colon. Every entity gets one global index (0 is padding), laid out
type by type so that one embedding table per type can be concatenated (``EntityVocab``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .config import ACTIONS, MAX_STEPS, MISC_FEATURES, BehaviourError

ACCOUNT = "account"
LOG_GAP_SCALE = float(np.log1p(30 * 86_400))  # a month's gap reads 1.0


@dataclass
class EntityVocab:
    """Entities by type: ``names[type]`` lists them; the global index of names[type][i] is offsets[type] + i + 1."""

    types: list[str]
    names: dict[str, list[str]]
    offsets: dict[str, int]
    index: dict[str, int]

    @classmethod
    def build(cls, entities) -> EntityVocab:
        by_type: dict[str, set] = {}
        for entity in entities:
            by_type.setdefault(entity_type(entity), set()).add(entity)
        types = sorted(by_type)
        names = {t: sorted(by_type[t]) for t in types}
        offsets, index, at = {}, {}, 0
        for t in types:
            offsets[t] = at
            index.update({name: at + i + 1 for i, name in enumerate(names[t])})
            at += len(names[t])
        return cls(types=types, names=names, offsets=offsets, index=index)

    def __len__(self) -> int:
        return len(self.index)

    def counts(self) -> dict[str, int]:
        return {t: len(self.names[t]) for t in self.types}

    def type_ids(self) -> np.ndarray:
        """The type number of every global index (padding: -1)."""
        out = np.full(len(self) + 1, -1, dtype=np.int64)
        for k, t in enumerate(self.types):
            out[self.offsets[t] + 1 : self.offsets[t] + 1 + len(self.names[t])] = k
        return out


@dataclass
class Sequences:
    """Padded arrays, one row per account (``accounts``); ``mask`` is True on real steps, which come first."""

    accounts: np.ndarray
    actions: np.ndarray  # (n, L) int64, 1 + ACTIONS index; 0 = padding
    sources: np.ndarray  # (n, L) int64 global entity index
    targets: np.ndarray  # (n, L)
    misc: np.ndarray  # (n, L, len(MISC_FEATURES)) float32
    mask: np.ndarray  # (n, L) bool
    steps: np.ndarray  # (n,) every step the account took, before the crop
    vocab: EntityVocab

    def __len__(self) -> int:
        return len(self.accounts)

    def take(self, rows) -> Sequences:
        rows = np.asarray(rows, dtype=np.int64)
        return Sequences(self.accounts[rows], self.actions[rows], self.sources[rows], self.targets[rows],
                         self.misc[rows], self.mask[rows], self.steps[rows], self.vocab)


def entity_type(entity: str) -> str:
    return entity.split(":", 1)[0] if ":" in entity else "other"


def account_entity(account) -> str:
    return f"{ACCOUNT}:{account}"


def interaction_frame(account, action, target, time) -> pd.DataFrame:
    """The columns as one frame in time order (stable: rows of one instant keep their given order), times as
    float epoch seconds; refuses unequal lengths, unknown actions and blank targets."""
    lengths = {len(account), len(action), len(target), len(time)}
    if len(lengths) != 1:
        raise BehaviourError(f"account, action, target and time must have one length; got {sorted(lengths)}")
    frame = pd.DataFrame({"account": list(account), "action": list(action), "target": list(target)})
    if frame.empty:
        raise BehaviourError("there are no interactions")
    frame["time"] = _seconds(time)
    unknown = sorted(set(frame["action"]) - set(ACTIONS))
    if unknown:
        raise BehaviourError(f"unknown action(s) {unknown[:5]}; known: {', '.join(ACTIONS)}")
    if frame["target"].isna().any() or (frame["target"].astype(str) == "").any():
        raise BehaviourError("every interaction needs a target")
    frame["target"] = frame["target"].astype(str)
    frame["source"] = [account_entity(a) for a in frame["account"]]
    return frame.sort_values(["account", "time"], kind="stable").reset_index(drop=True)


def _seconds(time) -> np.ndarray:
    values = np.asarray(time)
    if values.dtype.kind in "iuf":
        return values.astype(np.float64)
    stamps = pd.to_datetime(pd.Series(list(time)), utc=True)
    return (stamps.astype("int64") / 1e9).to_numpy()


def build_sequences(frame: pd.DataFrame, vocab: EntityVocab | None = None, max_steps: int = MAX_STEPS) -> Sequences:
    """1. per account, the steps in time order; 2. keep the most recent ``max_steps``; 3. misc features per step:
    log seconds since the account's previous step (0 for its first), hour of day as sin/cos; 4. pad to the longest
    kept sequence, with a mask. ``frame`` comes from ``interaction_frame``."""
    vocab = vocab or EntityVocab.build(pd.concat([frame["source"], frame["target"]]).unique())
    gap = frame.groupby("account", sort=False)["time"].diff().fillna(0.0).clip(lower=0.0).to_numpy()
    from_end = frame.groupby("account", sort=False).cumcount(ascending=False).to_numpy()
    steps = frame.groupby("account", sort=False).size()
    kept = frame[from_end < max_steps].reset_index(drop=True)
    gap = gap[from_end < max_steps]
    accounts = steps.index.to_numpy()
    row = pd.Series(np.arange(len(accounts)), index=accounts).loc[kept["account"]].to_numpy()
    pos = kept.groupby("account", sort=False).cumcount().to_numpy()
    width = int(pos.max()) + 1 if len(pos) else 1
    shape = (len(accounts), width)
    actions, sources, targets = (np.zeros(shape, dtype=np.int64) for _ in range(3))
    misc = np.zeros((*shape, len(MISC_FEATURES)), dtype=np.float32)
    mask = np.zeros(shape, dtype=bool)
    action_ids = {a: i + 1 for i, a in enumerate(ACTIONS)}
    actions[row, pos] = kept["action"].map(action_ids).to_numpy()
    sources[row, pos] = [vocab.index.get(s, 0) for s in kept["source"]]
    targets[row, pos] = [vocab.index.get(t, 0) for t in kept["target"]]
    hour = 2 * np.pi * ((kept["time"].to_numpy() % 86_400) / 86_400)
    misc[row, pos] = np.stack([np.log1p(gap) / LOG_GAP_SCALE, np.sin(hour), np.cos(hour)], axis=1)
    mask[row, pos] = True
    return Sequences(accounts, actions, sources, targets, misc, mask, steps.to_numpy(), vocab)
