"""The one place text models touch disk: weights + tokenizer via transformers, the rest as JSON."""
from __future__ import annotations

import json
from pathlib import Path

from .config import TextModelError

MANIFEST = "murmuration.json"
FORMAT = 1


def write_manifest(directory, kind: str, **content) -> Path:
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    (path / MANIFEST).write_text(json.dumps({"format": FORMAT, "kind": kind, **content}, indent=1))
    return path


def read_manifest(directory, kind: str | None = None) -> dict:
    path = Path(directory)
    if not (path / MANIFEST).is_file():
        raise TextModelError(f"{str(path)!r} is not a saved Murmuration text model: it has no {MANIFEST}")
    manifest = json.loads((path / MANIFEST).read_text())
    if kind is not None and manifest.get("kind") != kind:
        raise TextModelError(f"{str(path)!r} holds a {manifest.get('kind')!r}, not a {kind!r}")
    return manifest


def save_pretrained(directory, model, tokenizer) -> None:
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
