"""Training speed: examples/s fine-tuning the default model (bundled MiniLM-L6, one-logit head,
BCE with logits, AdamW) at batch 32, length 64, on IRA and control posts, three ways in the same run:

  padded_64   every batch padded to 64 tokens (the fixed-length figure quoted in STACK_NOTES)
  dynamic     padded to the longest post of each shuffled batch (what EncoderClassifier.fit does)
  bucketed    shuffled, then batches of similar token length (Trainer.fit(..., lengths=...))

  .venv/bin/python bench/train.py              # 24 steps of 32 per way (about 1 min on 2 idle cores)
  .venv/bin/python bench/train.py --steps 12

The first 2 steps of each way are warm-up and not timed. Ends with one JSON line.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from quality_content import cap, ira_vs_control  # noqa: E402  (after sys.path takes the repository)

from ml.text import ClassifierConfig, EncoderClassifier, TrainConfig, Trainer  # noqa: E402  (after sys.path takes the repository)

BATCH, LENGTH, WARM_UP = 32, 64, 2


class PaddedTo64(EncoderClassifier):
    def _batch(self, texts, with_lm_labels):
        return self.tokenizer_(list(texts), padding="max_length", truncation=True, max_length=self.config.max_length,
                               return_tensors="pt")


def examples_per_s(classifier: EncoderClassifier, texts: list[str], labels, bucketed: bool) -> float:
    """Examples/s over the timed steps (after WARM_UP), from the trainer's own clock."""
    import torch

    torch.manual_seed(0)
    classifier._build(texts)
    train = [(t, int(y)) for t, y in zip(texts, labels)]
    lengths = classifier._token_lengths(texts) if bucketed else None
    marks = {}
    Trainer(classifier.config.train).fit(
        classifier.model_,
        classifier._loss_fn(1.0),
        train,
        on_step=lambda p: marks.__setitem__(p["step"], p["elapsed_s"]),
        lengths=lengths,
    )
    last = max(marks)
    return (last - WARM_UP) * BATCH / (marks[last] - marks[WARM_UP])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=24)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    sample = cap(ira_vs_control(), BATCH * args.steps).sample(frac=1, random_state=0)
    texts, labels = sample["text"].tolist(), sample["label"].to_numpy()
    config = ClassifierConfig(max_length=LENGTH, train=TrainConfig(learning_rate=5e-5, epochs=1, batch_size=BATCH))
    figures = {}
    for name, cls, bucketed in (
        ("padded_64", PaddedTo64, False),
        ("dynamic", EncoderClassifier, False),
        ("bucketed", EncoderClassifier, True),
    ):
        figures[name] = round(examples_per_s(cls(config=config), texts, labels, bucketed), 1)
        print(f"{name}: {figures[name]} examples/s", file=sys.stderr, flush=True)
    tokens = EncoderClassifier(config=config)
    tokens._build(texts[:1])
    mean_tokens = sum(tokens._token_lengths(texts)) / len(texts)
    print(
        json.dumps(
            {
                "bench": "train",
                "model": "MiniLM-L6 (bundled)",
                "batch_size": BATCH,
                "max_length": LENGTH,
                "examples_per_s": figures["dynamic"],
                "padded_64_examples_per_s": figures["padded_64"],
                "bucketed_examples_per_s": figures["bucketed"],
                "timed_steps": args.steps - WARM_UP,
                "mean_tokens": round(mean_tokens, 1),
                "threads": torch.get_num_threads(),
                "gpu": None,
            }
        )
    )


if __name__ == "__main__":
    main()
