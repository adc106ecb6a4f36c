"""Twitter15/16 rumour propagation trees (Ma et al. 2017), read from their zip.

Layout: ``<root>/tree/<source_id>.txt`` with one edge per line,
``['parent_uid', 'parent_tweet', 'delay']->['uid', 'tweet', 'delay']`` (the ROOT edge names the
source tweet's author), ``label.txt`` (``label:source_id``) and ``source_tweets.txt`` (``id<TAB>text``).

Every line yields one record: the ROOT edge the source post, each other edge a repost by the child's
account of the source tweet, from the parent's account. Delays are minutes after the source tweet,
whose time its snowflake id tells. A node is the triple (uid, tweet, delay): one account retweeting
twice at different delays is two nodes. A tree file is small, so it is read whole first (up to
``Limits.document_limit`` characters, each line up to ``line_limit``: a bomb is refused, not held): the real
files list some edges before the edge that introduces their parent, which is kept (the parent is in
the tree); an unknown parent (one that no line of the tree introduces), repeated lines, cycles and
negative delays are rejected with their reasons, so no stored repost points at a node the tree does
not have.
"""
from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime, timedelta
from typing import Iterator

from apps.collections.importers.dates import snowflake_time
from apps.collections.importers.limits import Limits
from apps.collections.importers.lines import BoundedLines
from apps.collections.importers.records import AccountRecord, ImportFileError, PostRecord, RejectedRecord
from apps.collections.importers.streams import MEMBER_ERRORS, Budget, MeteredStream, StreamError

LABEL = "Twitter15/16 propagation trees (zip)"
TREE_MEMBER = re.compile(r"(?:^|/)tree/(\d+)\.txt$")
_EDGE = re.compile(
    r"^\[\s*'([^']*)',\s*'([^']*)',\s*'([^']*)'\s*\]\s*->\s*\[\s*'([^']*)',\s*'([^']*)',\s*'([^']*)'\s*\]$"
)
_LABEL_LINE = re.compile(r"^\s*([^:\s]+)\s*:\s*(\d+)\s*$")


def is_tree_zip(names: list[str]) -> bool:
    """A Twitter15/16 zip: tree files, and label.txt or source_tweets.txt."""
    bases = {n.rsplit("/", 1)[-1] for n in names}
    return any(TREE_MEMBER.search(n) for n in names) and bool(bases & {"label.txt", "source_tweets.txt"})


class TwitterTreeImporter:
    format = "twitter_tree_zip"
    label = LABEL
    kind = "tree_zip"
    merge_rows = False

    def __init__(self, path, *, name: str, limit: int, limits: Limits = Limits()) -> None:
        self.path, self.name, self.limit, self.limits = path, name, limit, limits
        self.progress = 0.0

    def records(self) -> Iterator[PostRecord | RejectedRecord]:
        """Every line of every tree; a member that cannot be read (corrupt, truncated) refuses the zip."""
        try:
            yield from self._records()
        except StreamError as exc:
            raise ImportFileError(exc.message(self.name, None)) from exc
        except MEMBER_ERRORS as exc:
            raise ImportFileError(StreamError("zip member is corrupt", str(exc)).message(self.name, None)) from exc

    def _records(self) -> Iterator[PostRecord | RejectedRecord]:
        budget = Budget(self.name, self.limit)
        with zipfile.ZipFile(self.path) as archive:
            infos = archive.infolist()
            labels = _labels(self._text(archive, infos, "label.txt", budget))
            texts = _source_texts(self._text(archive, infos, "source_tweets.txt", budget))
            trees = [(i, TREE_MEMBER.search(i.filename)) for i in infos]
            trees = [(i, m.group(1)) for i, m in trees if m]
            total, done = max(sum(i.compress_size for i, _ in trees), 1), 0
            for info, source_id in trees:
                with MeteredStream(archive.open(info), budget) as raw:
                    text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace")
                    tree = Tree(source_id, f"tree/{source_id}.txt", texts.get(source_id, ""), labels.get(source_id),
                                max_text=self.limits.max_field_chars)
                    yield from self._lines(text, tree, info.filename)
                done += info.compress_size
                self.progress = done / total

    def _lines(self, text: io.TextIOBase, tree: "Tree", member: str) -> Iterator[PostRecord | RejectedRecord]:
        """The file's lines are held (see the module doc), up to the document limit; a line past the line
        limit is skipped unread and rejected in its place."""
        lines: list[tuple[int, str | None, str]] = []  # (line, edge, or None and why it was skipped)
        bounded, held, limit = BoundedLines(text, self.limits.line_limit), 0, self.limits.document_limit
        try:
            for raw in bounded:
                if bounded.overlong:
                    lines.extend((at, None, bounded.reason(length)) for at, length, _ in bounded.overlong)
                    bounded.overlong.clear()
                elif raw.strip():
                    lines.append((bounded.line, raw.strip(), ""))
                    held += len(raw)
                    if held > limit:
                        raise ImportFileError(
                            f"{self.name}/{member}: a tree file longer than {limit:,} characters cannot be read"
                        )
        except StreamError as exc:
            raise ImportFileError(exc.message(f"{self.name}/{member}", bounded.line)) from exc
        tree.declare(raw for _, raw, _ in lines if raw is not None)
        for number, raw, skipped in lines:
            yield tree.edge(number, raw) if raw is not None else tree.reject(number, skipped)

    def _text(self, archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], base: str, budget: Budget) -> str:
        """label.txt or source_tweets.txt, read whole up to the document limit."""
        info = next((i for i in infos if i.filename.rsplit("/", 1)[-1] == base), None)
        if info is None:
            return ""
        limit = self.limits.document_limit
        with MeteredStream(archive.open(info), budget) as raw:
            data = raw.read(limit + 1)
        if len(data) > limit:
            raise ImportFileError(f"{self.name}: {info.filename} is longer than {limit:,} bytes and cannot be read")
        return data.decode("utf-8", "replace")


class Tree:
    """The state of one tree file while its edges are read in order."""

    def __init__(self, source_id: str, field: str, text: str, veracity: str | None,
                 max_text: int = Limits().max_field_chars) -> None:
        self.source_id, self.field, self.text, self.max_text = source_id, field, text, max_text
        self.labels = {"veracity": veracity} if veracity else {}
        try:
            self.source_time: datetime | None = snowflake_time(int(source_id))
        except OverflowError:  # an id past any snowflake: every line of the tree is rejected
            self.source_time = None
        self.nodes: dict[tuple, int] = {}  # node -> line where it became a child
        self.parents: dict[tuple, tuple] = {}
        self.lines: dict[str, int] = {}  # edge text -> first line
        self.root: tuple | None = None
        self.declared: set[tuple] = set()  # every node some line of the tree introduces as a child
        # Delays count from the tweet the file is named after. In a few real trees that tweet retweets an
        # earlier one, the ROOT line's, at a negative delay: nothing in the tree can precede the ROOT's delay.
        self.root_delay = 0.0

    def declare(self, raws) -> None:
        for raw in raws:
            m = _EDGE.match(raw)
            if m:
                self.declared.add(m.group(4, 5, 6))
                if m.group(1) == "ROOT" and (delay := _minutes(m.group(6))) is not None:
                    self.root_delay = min(self.root_delay, delay)

    def edge(self, line: int, raw: str) -> PostRecord | RejectedRecord:
        m = _EDGE.match(raw)
        delay = _minutes(m.group(6)) if m else None
        if m is None or delay is None:
            return self.reject(
                line, f"unparsable line {raw[:80]!r} (expected ['uid', 'tweet', 'delay']->['uid', 'tweet', 'delay'])"
            )
        parent, child = m.group(1, 2, 3), m.group(4, 5, 6)
        problem = self._problem(line, raw, parent, child, delay)
        if problem:
            return self.reject(line, problem)
        time = self._time(delay)
        if time is None:
            return self.reject(
                line, f"tree id {self.source_id[:40]} and delay {delay:g} minutes give no date in the calendar"
            )
        self.lines[raw] = line
        self.nodes[child] = line
        if parent[0] == "ROOT":
            self.root = child
            return self._source_post(line, child, time)
        self.parents[child] = parent
        return self._repost(line, parent, child, time)

    def _time(self, delay: float) -> datetime | None:
        if self.source_time is None:
            return None
        try:
            return self.source_time + timedelta(minutes=delay)
        except OverflowError:
            return None

    def reject(self, line: int, reason: str) -> RejectedRecord:
        return RejectedRecord(line, self.field, reason)

    def _problem(self, line: int, raw: str, parent: tuple, child: tuple, delay: float) -> str | None:
        """Why this edge cannot be stored, or None. The order makes each message the most telling one."""
        if raw in self.lines:
            return f"repeats line {self.lines[raw]:,}"
        if parent[0] == "ROOT" and self.root:
            return f"a second ROOT line (the first is line {self.nodes[self.root]:,})"
        if parent[0] == "ROOT":  # the source post: its text, from source_tweets.txt, is a field like any other
            if len(self.text) > self.max_text:
                return f"the source tweet's text is {len(self.text):,} characters; the limit is {self.max_text:,}"
            return None
        if parent not in self.declared:
            return f"unknown parent {parent[0]} (no line of the tree introduces it)"
        if child == parent:
            return f"node {child[0]} is its own parent (a cycle)"
        if self._is_ancestor(child, parent):
            return f"node {child[0]} is an ancestor of its parent {parent[0]} (a cycle)"
        if child in self.nodes:
            return f"node {child[0]} already has a parent (line {self.nodes[child]:,})"
        return self._delay_problem(delay)

    def _delay_problem(self, delay: float) -> str | None:
        if delay >= self.root_delay:
            return None
        if self.root_delay == 0:
            return f"negative delay {delay:g} minutes (before the source tweet)"
        return f"delay {delay:g} minutes is before the source tweet's ({self.root_delay:g})"

    def _is_ancestor(self, node: tuple, of: tuple) -> bool:
        """Whether ``node`` is on the chain of accepted parents above ``of``."""
        ancestor, steps = of, 0
        while ancestor in self.parents and steps <= len(self.parents):
            ancestor, steps = self.parents[ancestor], steps + 1
            if ancestor == node:
                return True
        return False

    def _source_post(self, line: int, node: tuple, time: datetime) -> PostRecord:
        """Stored under the file's source id, which label.txt, source_tweets.txt and every repost name: in a
        few real trees the ROOT line names another tweet id, kept as the label ``root_tweet``."""
        uid, tweet = node[0], node[1]
        labels = dict(self.labels) | ({"root_tweet": tweet} if tweet and tweet != self.source_id else {})
        return PostRecord(
            line=line,
            platform_id=self.source_id,
            account=AccountRecord(platform_id=uid),
            time=time,
            text=self.text,
            labels=labels,
        )

    def _repost(self, line: int, parent: tuple, child: tuple, time: datetime) -> PostRecord:
        uid, tweet, delay_text = child
        return PostRecord(
            line=line,
            platform_id=f"{self.source_id}/{uid}/{tweet}/{delay_text}",
            account=AccountRecord(platform_id=uid),
            text="",
            time=time,
            kind="repost",
            ref_post_id=self.source_id,
            ref_account=AccountRecord(platform_id=parent[0]),
            labels=dict(self.labels),
        )


def _minutes(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) < 1e9 else None  # NaN and absurd values are unparsable


def _labels(text: str) -> dict[str, str]:
    return {m.group(2): m.group(1) for m in map(_LABEL_LINE.match, text.splitlines()) if m}


def _source_texts(text: str) -> dict[str, str]:
    pairs = (line.split("\t", 1) for line in text.splitlines() if "\t" in line)
    return {k.strip(): v.strip() for k, v in pairs}
