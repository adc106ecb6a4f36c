"""A trainer that knows nothing of the model (minGPT's shape): examples in, a loss function, progress out
through `on_step(progress)`, early stopping on the validation loss with the best weights restored."""
from __future__ import annotations

import copy
import math
import time
from typing import Callable

from .config import TrainConfig


def bucketed_order(order: list[int], lengths, batch_size: int, generator, chunk_batches: int = 50) -> list[int]:
    """A shuffled order whose batches hold examples of similar length (far less padding): chunks of
    `chunk_batches` batches are sorted by length, cut into batches, and the batches shuffled."""
    import torch

    chunk = batch_size * chunk_batches
    cut = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start:start + chunk], key=lambda i: lengths[i])
        cut.extend(part[s:s + batch_size] for s in range(0, len(part), batch_size))
    return [i for b in torch.randperm(len(cut), generator=generator).tolist() for i in cut[b]]


def batches(examples: list, batch_size: int, order=None):
    order = range(len(examples)) if order is None else order
    order = list(order)
    for start in range(0, len(order), batch_size):
        yield [examples[i] for i in order[start:start + batch_size]]


class Trainer:
    def __init__(self, config: TrainConfig):
        self.config = config

    def fit(self, model, loss_fn: Callable, train: list, val: list | None = None, on_step: Callable | None = None,
            lengths=None) -> dict:
        """Train `model` (any torch module) on `loss_fn(model, batch_of_examples) -> scalar tensor`.

        1. Each epoch shuffles the training examples with a seeded generator and steps AdamW per batch;
           given `lengths` (one per training example), batches group examples of similar length.
        2. After each epoch the validation loss decides whether these are the best weights so far.
        3. `patience` epochs without improvement stop training; the best weights are put back.
        Returns the history: {"train": [{step, epoch, loss}], "val": [...], "best_epoch", "stopped_early"}.
        """
        import torch

        config = self.config
        torch.manual_seed(config.seed)
        generator = torch.Generator().manual_seed(config.seed)
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.learning_rate,
                                      weight_decay=config.weight_decay)
        steps_per_epoch = math.ceil(len(train) / config.batch_size)
        total = steps_per_epoch * config.epochs
        history = {"train": [], "val": [], "best_epoch": None, "stopped_early": False, "total_steps": total}
        best, best_state, waited, step, started = math.inf, None, 0, 0, time.monotonic()
        for epoch in range(1, config.epochs + 1):
            model.train()
            order = torch.randperm(len(train), generator=generator).tolist()
            if lengths is not None:
                order = bucketed_order(order, lengths, config.batch_size, generator)
            for batch in batches(train, config.batch_size, order):
                loss = self._step(model, loss_fn, batch, optimizer)
                step += 1
                history["train"].append({"step": step, "epoch": epoch, "loss": loss})
                self._report(on_step, step, total, epoch, loss, None, started)
            if not val:
                continue
            val_loss = self.evaluate(model, loss_fn, val)
            history["val"].append({"step": step, "epoch": epoch, "loss": val_loss})
            self._report(on_step, step, total, epoch, history["train"][-1]["loss"], val_loss, started)
            if val_loss < best:
                best, waited, history["best_epoch"] = val_loss, 0, epoch
                best_state = copy.deepcopy(model.state_dict())
            else:
                waited += 1
                if config.patience and waited >= config.patience:
                    history["stopped_early"] = epoch < config.epochs
                    break
        if best_state is not None:
            model.load_state_dict(best_state)
        model.eval()
        return history

    def _step(self, model, loss_fn, batch, optimizer) -> float:
        import torch

        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model, batch)
        loss.backward()
        if self.config.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), self.config.grad_clip)
        optimizer.step()
        return float(loss.detach())

    def evaluate(self, model, loss_fn, examples: list) -> float:
        """Mean loss over `examples`, weighted by batch size."""
        import torch

        model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for batch in batches(examples, self.config.batch_size):
                total += float(loss_fn(model, batch)) * len(batch)
                count += len(batch)
        model.train()
        return total / max(count, 1)

    @staticmethod
    def _report(on_step, step, total, epoch, loss, val_loss, started):
        if on_step is not None:
            on_step({"step": step, "total_steps": total, "fraction": step / total, "epoch": epoch,
                     "train_loss": loss, "val_loss": val_loss, "elapsed_s": time.monotonic() - started})
