"""The behaviour model's settings: the graph embedder's (``GraphConfig``) and TIES's (``TiesConfig``), each checked on
creation so that a bad value names its field (``ml.checks.ParamError``)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from ml.checks import ParamError, check_choice, check_range

# The actions a step can take, in the order of their embedding rows (row 0 is padding). "post" is an account
# writing its own post; the rest are the interaction table's actions (apps.collections.models.Interaction).
ACTIONS = ("post", "repost", "quote", "reply", "mention", "hashtag", "url", "domain", "image")
ENCODERS = ("cnn", "rnn", "deepset")
OPERATORS = ("diagonal", "translation")
FINETUNE = ("auto", "yes", "no")
MAX_STEPS = 512  # the paper's window: an account's most recent 512 interactions
MISC_FEATURES = ("log_gap", "hour_sin", "hour_cos")
# "auto" fine-tunes the graph embeddings inside TIES when the graph has at most this many entities (the paper:
# fine-tuning is only affordable while the entities number no more than a few million; a CPU is smaller).
FINETUNE_MAX_ENTITIES = 200_000
MIN_PER_CLASS = 5  # labelled accounts of each class a split needs, so each held-out part holds both


class BehaviourError(ValueError):
    """The data cannot support the model (no interactions, one class, an unknown action...)."""


@dataclass(frozen=True)
class GraphConfig:
    """PyTorch-BigGraph's objective at one machine's scale: margin ranking against corrupted edges."""

    dim: int = 32
    operator: str = "diagonal"  # the relation's operator: a diagonal scaling, or a translation
    margin: float = 0.1
    negatives: int = 16  # corrupted edges per true edge and side (source and target corrupted apart)
    epochs: int = 8
    batch_size: int = 1024
    lr: float = 0.1  # Adagrad, as PBG
    max_norm: float = 1.0  # rows are kept inside this ball (PBG's max_norm)
    seed: int = 0

    def __post_init__(self) -> None:
        check_range("embedding_dim", self.dim, 2, 512)
        check_choice("operator", self.operator, OPERATORS)
        check_range("margin", self.margin, 0, 10, low_open=True)
        check_range("negatives", self.negatives, 1, 1_000)
        check_range("graph_epochs", self.epochs, 1, 500)
        check_range("batch_size", self.batch_size, 1, 1_000_000)
        check_range("lr", self.lr, 0, 10, low_open=True)
        check_range("max_norm", self.max_norm, 0, 1_000, low_open=True)
        check_range("seed", self.seed, 0, 2**31 - 1)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class TiesConfig:
    """The sequence model: step features → encoder → attention pooling → feed-forward head."""

    encoder: str = "cnn"
    hidden: int = 64
    action_dim: int = 8
    cnn_layers: int = 2  # the paper's 1-D CNN: kernel 5, 2-3 layers
    kernel: int = 5
    dropout: float = 0.1
    epochs: int = 20
    batch_size: int = 32
    lr: float = 5e-4  # Adam
    clip: float = 1.0  # gradient norm
    finetune: str = "auto"
    max_steps: int = MAX_STEPS
    seed: int = 0

    def __post_init__(self) -> None:
        check_choice("encoder", self.encoder, ENCODERS)
        check_range("hidden", self.hidden, 2, 2_048)
        check_range("action_dim", self.action_dim, 1, 512)
        check_range("cnn_layers", self.cnn_layers, 1, 3)
        check_range("kernel", self.kernel, 1, 15)
        check_range("dropout", self.dropout, 0, 1, high_open=True)
        check_range("epochs", self.epochs, 1, 1_000)
        check_range("batch_size", self.batch_size, 1, 100_000)
        check_range("lr", self.lr, 0, 1, low_open=True)
        check_range("clip", self.clip, 0, 1_000, low_open=True)
        check_choice("finetune", self.finetune, FINETUNE)
        check_range("max_steps", self.max_steps, 1, 100_000)
        check_range("seed", self.seed, 0, 2**31 - 1)
        if self.kernel % 2 == 0:
            raise ParamError(f"kernel must be odd (the sequence keeps its length), got {self.kernel}", "kernel")

    def as_dict(self) -> dict:
        return asdict(self)
