"""Which text encoding a file uses, sniffed from its first megabyte.

1. UTF-8 (with or without BOM), and UTF-16 with a BOM, are taken as they are. An invalid byte in a
   UTF-8 file is kept as a surrogate (errors="surrogateescape") so that only its row is rejected. The
   sample is judged line by line: a file is UTF-8 unless most of its non-ASCII lines fail to decode, so
   one stray byte (0xFF, a truncated character) cannot make a code page of the whole file (seen:
   charset_normalizer naming ``ptcp154`` for such a file, garbling every other non-ASCII row).
2. Mojibake: some public tweet sets (the FiveThirtyEight "twitter-ratio" files) are UTF-8 that a tool
   read as Windows-1252 and saved as Mac Roman, once or twice. Decoded as any single code page they
   show "â€™" for "’" and "PeÃ±a" for "Peña"; undoing the layers gives the real text. We recognise it
   by the typographic punctuation (’ “ ” – — …, UTF-8 E2 80 xx) that appears once the layers are undone.
3. Anything else: charset_normalizer's best guess.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import charset_normalizer

SAMPLE_BYTES = 1 << 20
_PUNCTUATION = re.compile(rb"\xe2\x80[\x80-\xbf]")  # U+2000..U+203F in UTF-8: ’ “ ” – — … •
_SURROGATE = re.compile("[\udc80-\udcff]")
_LOST_EMOJI_LEAD = re.compile(rb"_(?=\x9f[\x80-\xbf])")


def _layer_table() -> bytes:
    """Undo one layer: a Mac Roman byte -> the Windows-1252 byte of the same character."""
    table = bytearray(range(256))
    for b in range(128, 256):
        try:
            table[b] = bytes([b]).decode("mac_roman").encode("cp1252")[0]
        except UnicodeEncodeError:
            pass  # no Windows-1252 twin (√, ∞, ...): leave the byte, the UTF-8 decode marks it
    return bytes(table)


_UNDO_LAYER = _layer_table()


@dataclass(frozen=True)
class Encoding:
    name: str  # the codec the file is read with
    errors: str = "strict"
    mojibake_layers: int = 0  # > 0: the file is read as latin-1 and each non-ASCII field is repaired

    @property
    def checks_utf8(self) -> bool:
        return self.errors == "surrogateescape"

    @property
    def label(self) -> str:
        if self.mojibake_layers:
            return f"utf-8 saved as mac_roman ({self.mojibake_layers}x)"
        return self.name


def sniff_encoding(sample: bytes) -> Encoding:
    """The encoding of a file from its first bytes (see the module docstring for the order)."""
    if sample.startswith(codecs.BOM_UTF8):
        return Encoding("utf-8-sig", "surrogateescape")
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Encoding("utf-16", "replace")
    if _is_utf8(sample) or _mostly_utf8(sample):
        return Encoding("utf-8", "surrogateescape")
    layers = mojibake_layers(sample)
    if layers:
        return Encoding("latin-1", "strict", layers)
    return Encoding(_legacy_guess(sample), "replace")


def _legacy_guess(sample: bytes) -> str:
    """charset_normalizer's guess; among equally good guesses Windows-1252, the common Western code page
    (short samples of French or Spanish tweets fit cp1250 and cp1257 just as well, which would turn è into č)."""
    matches = list(charset_normalizer.from_bytes(sample))
    if not matches:
        return "cp1252"
    best = matches[0]
    tied = [m.encoding for m in matches if m.chaos <= best.chaos + 0.01 and m.coherence >= best.coherence - 0.01]
    return "cp1252" if "cp1252" in tied else codecs.lookup(best.encoding).name


def _is_utf8(sample: bytes) -> bool:
    # final=False: the sample may end inside a multi-byte character
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _mostly_utf8(sample: bytes) -> bool:
    """Whether at least half of the sample's non-ASCII lines are valid UTF-8 (the last, maybe cut, line aside)."""
    lines = sample.split(b"\n")[:-1] if b"\n" in sample else [sample]
    good = bad = 0
    for line in lines:
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            good += 1
        except UnicodeDecodeError:
            bad += 1
    return good >= bad and good > 0


def mojibake_layers(sample: bytes, max_layers: int = 3) -> int:
    """How many UTF-8 -> Windows-1252 -> Mac Roman layers to undo (0: the sample is not such mojibake)."""
    counts, layered = [], sample
    for _ in range(max_layers):
        layered = layered.translate(_UNDO_LAYER)
        counts.append(len(_PUNCTUATION.findall(layered)))
    best = max(range(max_layers), key=counts.__getitem__)
    baseline = len(_PUNCTUATION.findall(sample))
    return best + 1 if counts[best] >= 3 and counts[best] > 2 * baseline else 0


def undo_mojibake(text: str, layers: int) -> str:
    """Repair one field read as latin-1 (bytes kept 1:1).

    Characters with no Mac Roman twin were written as '_' by the original tools. Two such losses are
    certain to repair, since '_' cannot stand there in UTF-8: the lead byte of every emoji (F0, 'ð')
    and the last byte of '…' (A6, '¦'; the other U+2000 punctuation survived, and in tweets this is
    the ellipsis of truncated text and links). Other lost bytes become U+FFFD.
    """
    raw = text.encode("latin-1")
    for _ in range(layers):
        raw = raw.translate(_UNDO_LAYER)
    raw = _LOST_EMOJI_LEAD.sub(b"\xf0", raw).replace(b"\xe2\x80_", "…".encode())
    return raw.decode("utf-8", "replace")


def first_bad_byte(text: str) -> int | None:
    """The first byte that was not valid UTF-8 in a field decoded with surrogateescape, or None."""
    m = _SURROGATE.search(text)
    return ord(m.group()) - 0xDC00 if m else None
