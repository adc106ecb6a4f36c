"""Settings for the text models: frozen dataclasses with presets, checked once, loudly."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ml import checks


class TextModelError(ValueError):
    """The data or parameters cannot support a text model (one class, unknown labels, no model directory...)."""


def check_range(name: str, value, low=None, high=None, *, low_open=False, high_open=False) -> None:
    checks.check_range(name, value, low, high, low_open=low_open, high_open=high_open, error=TextModelError)


THRESHOLD_GOALS = ("f1", "precision", "fixed")


@dataclass(frozen=True)
class TrainConfig:
    """What the trainer needs; it knows nothing of the model."""
    learning_rate: float = 5e-5
    epochs: int = 3
    batch_size: int = 16
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    patience: int = 2  # epochs without a better validation loss before stopping; 0 never stops early
    seed: int = 0

    def __post_init__(self):
        check_range("learning_rate", self.learning_rate, 0, 1, low_open=True)
        check_range("epochs", self.epochs, 1, 1000)
        check_range("batch_size", self.batch_size, 1, 4096)
        check_range("weight_decay", self.weight_decay, 0, 1)
        check_range("grad_clip", self.grad_clip, 0)
        check_range("patience", self.patience, 0, 1000)


@dataclass(frozen=True)
class TinyGPT2:
    """A GPT-2 built from scratch when no directory is given: the nanoGPT 'gpt-nano' idea."""
    n_layer: int = 2
    n_head: int = 2
    n_embd: int = 64
    vocab_size: int = 2000  # byte-level BPE trained on the collection
    n_positions: int = 128


@dataclass(frozen=True)
class ClassifierConfig:
    """Binary text classifier (encoder: docs/methods.md §spread; GPT-2: §language models). Label 1 = information
    operation."""
    max_length: int = 64
    class_weight: str | None = "balanced"  # "balanced": BCE pos_weight = negatives / positives; None: 1
    test_size: float = 0.2  # held out for metrics
    val_size: float = 0.1  # of what is left, for early stopping
    threshold: float = 0.5  # flags posts when no threshold was chosen on validation (threshold_goal "fixed")
    calibrate: bool = True  # fit(): a temperature fitted on the validation split (ml.text.calibration)
    threshold_goal: str = "f1"  # fit(): the threshold chosen on validation for "f1" or "precision"; "fixed": above
    target_precision: float = 0.9  # threshold_goal "precision": the lowest threshold whose precision reaches this
    ood: bool = True  # fit(): summarise the training posts' embeddings for the out-of-distribution check (ml.text.ood)
    lm_weight: float = 0.5  # GPT-2 only: weight of the auxiliary language-model loss (docs/methods.md §language models)
    account_disjoint: bool = True  # no account in two splits (needs group ids)
    train: TrainConfig = field(default_factory=TrainConfig)
    tiny: TinyGPT2 = field(default_factory=TinyGPT2)

    def __post_init__(self):
        check_range("max_length", self.max_length, 4, 4096)
        if self.class_weight not in ("balanced", None):
            raise TextModelError(f"class_weight must be 'balanced' or None, got {self.class_weight!r}")
        check_range("test_size", self.test_size, 0, 0.9, low_open=True)
        check_range("val_size", self.val_size, 0, 0.9)
        check_range("threshold", self.threshold, 0, 1)
        if self.threshold_goal not in THRESHOLD_GOALS:
            goals = ", ".join(THRESHOLD_GOALS)
            raise TextModelError(f"threshold_goal must be one of {goals}, got {self.threshold_goal!r}")
        check_range("target_precision", self.target_precision, 0, 1, low_open=True, high_open=True)
        check_range("lm_weight", self.lm_weight, 0)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ClassifierConfig":
        data = dict(data)
        return cls(**{**data, "train": TrainConfig(**data.get("train", {})), "tiny": TinyGPT2(**data.get("tiny", {}))})


@dataclass(frozen=True)
class LMConfig:
    """A causal LM per collection (docs/methods.md §language models): `<|endoftext|>` after each post, a third held
    out."""
    max_length: int = 64
    held_out: float = 0.33
    train: TrainConfig = field(default_factory=lambda: TrainConfig(learning_rate=5e-4, epochs=3, patience=1))
    tiny: TinyGPT2 = field(default_factory=TinyGPT2)

    def __post_init__(self):
        check_range("max_length", self.max_length, 4, 4096)
        check_range("held_out", self.held_out, 0, 0.9, low_open=True)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "LMConfig":
        data = dict(data)
        return cls(**{**data, "train": TrainConfig(**data.get("train", {})), "tiny": TinyGPT2(**data.get("tiny", {}))})


# Defending Democracy's settings (docs/methods.md §spread) (BERT-base on a GPU); the defaults above fit a 2-core CPU.
SEED_004 = ClassifierConfig(max_length=256, train=TrainConfig(learning_rate=3e-5, epochs=10, batch_size=32))
# A tiny GPT-2 learns from scratch, so it wants a far larger learning rate than fine-tuning.
TINY_GPT2 = ClassifierConfig(train=TrainConfig(learning_rate=1e-3, epochs=5, batch_size=16))
CPU = ClassifierConfig()
__all__ = ["CPU", "SEED_004", "TINY_GPT2", "ClassifierConfig", "LMConfig", "TextModelError", "TinyGPT2", "TrainConfig"]
