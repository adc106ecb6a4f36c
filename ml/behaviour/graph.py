"""Graph embeddings of accounts, posts, hashtags, domains... from the multi-relation graph account –action→ target,
trained as PyTorch-BigGraph does, at one machine's scale (docs/scaling.md says what takes over beyond it).

A relation is an action towards one entity type ("repost>post", "hashtag>hashtag"), so each relation has one
source type (account) and one target type, as PBG requires. The score of an edge (h, r, t) is ``<h ⊙ r, t>`` with a
diagonal operator, or ``-‖h + r - t‖`` with a translation; the loss is PBG's margin ranking loss,
``relu(margin - f(edge) + f(corrupted))``, against corrupted edges whose target (or source) is replaced by an
entity of the same type, drawn uniformly, ``negatives`` per edge and side, for a whole batch at once.
One embedding table per entity type; Adagrad; rows kept inside the ``max_norm`` ball.
"""
from __future__ import annotations

import time as clock

import numpy as np

from .config import GraphConfig
from .sequences import ACCOUNT, EntityVocab, entity_type


def graph_edges(frame, vocab: EntityVocab) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(source index, relation index, target index, relation names) of every interaction row."""
    relation = frame["action"] + ">" + frame["target"].map(entity_type)
    names = sorted(relation.unique())
    ids = {name: i for i, name in enumerate(names)}
    src = frame["source"].map(vocab.index).to_numpy(dtype=np.int64)
    dst = frame["target"].map(vocab.index).to_numpy(dtype=np.int64)
    return src, relation.map(ids).to_numpy(dtype=np.int64), dst, names


class GraphEmbedder:
    """``fit(vocab, src, rel, dst)`` → self; ``vectors_`` ((entities + 1) × dim, row 0 zeros: padding),
    ``losses_`` (mean loss per epoch), ``seconds_``; ``score(src, rel, dst)`` for any edges."""

    def __init__(self, config: GraphConfig = GraphConfig()):
        self.config = config

    def fit(self, vocab: EntityVocab, src, rel, dst, n_relations: int | None = None, on_epoch=None) -> GraphEmbedder:
        import torch

        cfg, started = self.config, clock.perf_counter()
        torch.manual_seed(cfg.seed)
        generator = torch.Generator().manual_seed(cfg.seed)
        self._build(vocab, int(n_relations or (int(np.max(rel)) + 1 if len(rel) else 1)))
        src, rel, dst = (torch.as_tensor(np.array(a, dtype=np.int64)) for a in (src, rel, dst))
        types = torch.as_tensor(vocab.type_ids())
        offsets = torch.as_tensor([vocab.offsets[t] for t in vocab.types])
        counts = torch.as_tensor([len(vocab.names[t]) for t in vocab.types])
        optimizer = torch.optim.Adagrad(list(self.tables.parameters()) + [self.relations], lr=cfg.lr)
        self.losses_ = []
        for epoch in range(cfg.epochs):
            order, total = torch.randperm(len(src), generator=generator), 0.0
            for start in range(0, len(src), cfg.batch_size):
                batch = order[start : start + cfg.batch_size]
                loss = self._loss(src[batch], rel[batch], dst[batch], types, offsets, counts, generator)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                self._renorm()
                total += float(loss.detach()) * len(batch)
            self.losses_.append(total / max(len(src), 1))
            if on_epoch:
                on_epoch(epoch + 1, cfg.epochs, self.losses_[-1])
        self.vectors_ = self._weights().detach().numpy().copy()
        self.seconds_ = clock.perf_counter() - started
        return self

    def _build(self, vocab: EntityVocab, n_relations: int) -> None:
        import torch

        cfg = self.config
        self.vocab = vocab
        self.tables = torch.nn.ParameterDict(
            {t: torch.nn.Parameter(torch.randn(len(vocab.names[t]), cfg.dim) * 0.1) for t in vocab.types}
        )
        start = torch.ones if cfg.operator == "diagonal" else torch.zeros
        self.relations = torch.nn.Parameter(start(n_relations, cfg.dim))

    def _weights(self):
        """Padding row, then the type tables in vocab order: the global index space."""
        import torch

        tables = [self.tables[t] for t in self.vocab.types]
        return torch.cat([torch.zeros(1, self.config.dim), *tables])

    def _score(self, h, r, t):
        if self.config.operator == "diagonal":
            return ((h * r) * t).sum(-1)
        return -(h + r - t).norm(dim=-1)

    def _loss(self, src, rel, dst, types, offsets, counts, generator):
        """Margin ranking: each true edge against ``negatives`` corrupted targets and as many corrupted sources."""
        import torch

        weights, k = self._weights(), self.config.negatives
        h, r, t = weights[src], self.relations[rel], weights[dst]
        positive = self._score(h, r, t)
        dst_type = types[dst]
        draw = torch.rand(len(dst), k, generator=generator)
        fake_dst = offsets[dst_type][:, None] + 1 + (draw * counts[dst_type][:, None]).long()
        src_type = types[src]
        draw = torch.rand(len(src), k, generator=generator)
        fake_src = offsets[src_type][:, None] + 1 + (draw * counts[src_type][:, None]).long()
        corrupt_t = self._score(h[:, None], r[:, None], weights[fake_dst])
        corrupt_h = self._score(weights[fake_src], r[:, None], t[:, None])
        margin = self.config.margin
        loss = torch.relu(margin - positive[:, None] + corrupt_t) + torch.relu(margin - positive[:, None] + corrupt_h)
        return loss.mean()

    def _renorm(self) -> None:
        import torch

        with torch.no_grad():
            for table in self.tables.values():
                norms = table.norm(dim=1, keepdim=True).clamp(min=self.config.max_norm)
                table.mul_(self.config.max_norm / norms)

    def score(self, src, rel, dst) -> np.ndarray:
        import torch

        with torch.no_grad():
            weights = torch.as_tensor(self.vectors_)
            rel = torch.as_tensor(np.array(rel, dtype=np.int64))
            h = weights[torch.as_tensor(np.array(src, dtype=np.int64))]
            t = weights[torch.as_tensor(np.array(dst, dtype=np.int64))]
            return self._score(h, self.relations.detach()[rel], t).numpy()

    def account_vectors(self) -> dict[str, np.ndarray]:
        """{account entity: its vector}, e.g. for a map of accounts."""
        offset = self.vocab.offsets.get(ACCOUNT)
        if offset is None:
            return {}
        return {name: self.vectors_[offset + i + 1] for i, name in enumerate(self.vocab.names[ACCOUNT])}
