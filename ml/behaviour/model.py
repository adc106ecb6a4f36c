"""TIES (seed 003): per step, the concatenation of a trainable action embedding, the source's and the target's graph
embeddings (frozen, or fine-tuned when the graph is small) and the misc features; a sequence encoder (bidirectional
LSTM, 1-D CNN, or DeepSet); attention pooling; a feed-forward head. Trained with BCE weighted by class; Adam,
gradient clipping, dropout. Outputs a score and an embedding (the pooled vector) per account.

``TiesClassifier`` is the estimator: ``fit(sequences, labels, train, val, entity_vectors)`` → self (the epoch with
the lowest validation loss is kept), ``predict(sequences)`` → (scores, embeddings).
"""
from __future__ import annotations

import copy
import time as clock

import numpy as np

from .config import ACTIONS, FINETUNE_MAX_ENTITIES, MISC_FEATURES, TiesConfig
from .sequences import Sequences


def _modules():
    """torch.nn classes are built on first use, so importing this package stays cheap."""
    import torch
    from torch import nn

    class Encoder(nn.Module):
        """(B, L, in) → (B, L, hidden); padded steps come out as zeros."""

        def __init__(self, kind: str, width: int, cfg: TiesConfig):
            super().__init__()
            self.kind, h = kind, cfg.hidden
            if kind == "rnn":
                self.lstm = nn.LSTM(width, h // 2 + h % 2, batch_first=True, bidirectional=True)
                self.out = nn.Linear(2 * (h // 2 + h % 2), h)
            elif kind == "cnn":
                self.inp = nn.Linear(width, h)
                self.convs = nn.ModuleList(
                    nn.Conv1d(h, h, cfg.kernel, padding=cfg.kernel // 2) for _ in range(cfg.cnn_layers)
                )
            else:  # deepset: each step alone (phi); the attention pooling is the permutation-invariant sum (rho)
                self.phi = nn.Sequential(nn.Linear(width, h), nn.ReLU(), nn.Linear(h, h))
            self.drop = nn.Dropout(cfg.dropout)

        def forward(self, x, mask):
            keep = mask.unsqueeze(-1).float()
            if self.kind == "rnn":
                lengths = mask.sum(1).clamp(min=1).cpu()
                packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
                out, _ = self.lstm(packed)
                out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
                return self.drop(torch.tanh(self.out(out))) * keep
            if self.kind == "cnn":
                out = torch.relu(self.inp(x)) * keep
                for conv in self.convs:
                    out = self.drop(torch.relu(conv(out.transpose(1, 2)).transpose(1, 2))) * keep
                return out
            return self.drop(torch.relu(self.phi(x))) * keep

    class TiesNet(nn.Module):
        def __init__(self, vectors: np.ndarray, cfg: TiesConfig, finetune: bool):
            super().__init__()
            self.entities = nn.Embedding.from_pretrained(
                torch.as_tensor(vectors, dtype=torch.float32), freeze=not finetune, padding_idx=0
            )
            self.actions = nn.Embedding(len(ACTIONS) + 1, cfg.action_dim, padding_idx=0)
            width = cfg.action_dim + 2 * vectors.shape[1] + len(MISC_FEATURES)
            self.encoder = Encoder(cfg.encoder, width, cfg)
            h = cfg.hidden
            self.attention = nn.Sequential(nn.Linear(h, h), nn.Tanh(), nn.Linear(h, 1))
            self.head = nn.Sequential(nn.Linear(h, h), nn.ReLU(), nn.Dropout(cfg.dropout), nn.Linear(h, 1))

        def forward(self, actions, sources, targets, misc, mask):
            x = torch.cat([self.actions(actions), self.entities(sources), self.entities(targets), misc], dim=-1)
            hidden = self.encoder(x, mask)
            logits = self.attention(hidden).squeeze(-1).masked_fill(~mask, float("-inf"))
            weights = torch.softmax(logits, dim=1).nan_to_num(0.0)  # an empty sequence pools to zeros
            pooled = (weights.unsqueeze(-1) * hidden).sum(1)
            return self.head(pooled).squeeze(-1), pooled

    return TiesNet


def _tensors(seqs: Sequences, rows):
    import torch

    return (torch.as_tensor(seqs.actions[rows]), torch.as_tensor(seqs.sources[rows]),
            torch.as_tensor(seqs.targets[rows]), torch.as_tensor(seqs.misc[rows]), torch.as_tensor(seqs.mask[rows]))


def _cropped(seqs: Sequences, rows):
    """The batch's rows, cut to its longest sequence (padding past it costs time and changes nothing)."""
    width = max(int(seqs.mask[rows].sum(1).max()), 1)
    return tuple(t[:, :width] for t in _tensors(seqs, rows))


class TiesClassifier:
    def __init__(self, config: TiesConfig = TiesConfig()):
        self.config = config

    def fit(self, seqs: Sequences, labels, train, val, entity_vectors: np.ndarray, on_epoch=None) -> TiesClassifier:
        """``labels``: 0/1 per row of ``seqs`` (rows outside train and val are not read); ``train``/``val``: rows."""
        import torch

        cfg, started = self.config, clock.perf_counter()
        torch.manual_seed(cfg.seed)
        generator = np.random.default_rng(cfg.seed)
        self.finetuned_ = cfg.finetune == "yes" or (
            cfg.finetune == "auto" and entity_vectors.shape[0] - 1 <= FINETUNE_MAX_ENTITIES
        )
        self.net_ = _modules()(entity_vectors, cfg, self.finetuned_)
        labels = np.asarray(labels, dtype=np.float32)
        train, val = np.asarray(train), np.asarray(val)
        positives = float(labels[train].sum())
        weight = torch.tensor((len(train) - positives) / max(positives, 1.0))
        loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=weight)  # the class weights: positives count as negatives
        optimizer = torch.optim.Adam([p for p in self.net_.parameters() if p.requires_grad], lr=cfg.lr)
        self.history_, best = [], (float("inf"), None, 0)
        for epoch in range(cfg.epochs):
            self.net_.train()
            total = 0.0
            order = generator.permutation(train)
            for start in range(0, len(order), cfg.batch_size):
                rows = order[start : start + cfg.batch_size]
                logits, _ = self.net_(*_cropped(seqs, rows))
                loss = loss_fn(logits, torch.as_tensor(labels[rows]))
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.net_.parameters(), cfg.clip)
                optimizer.step()
                total += float(loss.detach()) * len(rows)
            val_loss = self._loss(seqs, labels, val, loss_fn) if len(val) else total / len(order)
            self.history_.append({"epoch": epoch + 1, "train_loss": total / len(order), "val_loss": val_loss})
            if val_loss < best[0]:
                best = (val_loss, copy.deepcopy(self.net_.state_dict()), epoch + 1)
            if on_epoch:
                on_epoch(epoch + 1, cfg.epochs, self.history_[-1])
        self.net_.load_state_dict(best[1])
        self.best_epoch_ = best[2]
        self.seconds_ = clock.perf_counter() - started
        return self

    def _loss(self, seqs, labels, rows, loss_fn) -> float:
        import torch

        self.net_.eval()
        total = 0.0
        with torch.no_grad():
            for start in range(0, len(rows), 256):
                part = rows[start : start + 256]
                logits, _ = self.net_(*_cropped(seqs, part))
                total += float(loss_fn(logits, torch.as_tensor(labels[part]))) * len(part)
        return total / len(rows)

    def predict(self, seqs: Sequences, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """(score in [0, 1], pooled embedding) of every row of ``seqs``."""
        import torch

        self.net_.eval()
        scores, embeddings = [], []
        with torch.no_grad():
            for start in range(0, len(seqs), batch_size):
                rows = np.arange(start, min(start + batch_size, len(seqs)))
                logits, pooled = self.net_(*_cropped(seqs, rows))
                scores.append(torch.sigmoid(logits).numpy())
                embeddings.append(pooled.numpy())
        return np.concatenate(scores), np.concatenate(embeddings)
