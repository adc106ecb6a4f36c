"""Entities of a post (hashtags, mentions, URLs, domains): pure functions of the text.

URLs are normalised as the influence-model paper does (seed 002, section 4.1): an entity is a topic,
so two links to the same page must compare equal whatever their protocol, subdomain or query string.
"""
from __future__ import annotations

import re
from functools import lru_cache

import tldextract

# '#' or '@' glued to a word (foo#bar, a@b.com) is not an entity; '&' excludes HTML entities (&#39;).
_HASHTAG = re.compile(r"(?<![\w&/])[#\uFF03](\w+)")
_MENTION = re.compile(r"(?<![\w@/])[@\uFF20](\w{1,50})")
_URL = re.compile(r"(?:https?://|(?<![\w./])t\.co/)[^\s<>\"'`]+", re.IGNORECASE)
_URL_TAIL = ".,;:!?)]}'\"\u2026"  # punctuation that ends a sentence, not the link (… ends truncated tweets)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)

_extractor: tldextract.TLDExtract | None = None


def extract_hashtags(text: str) -> list[str]:
    """Lower-cased hashtags without '#', in order of first use; all-digit tags (#1) are not hashtags."""
    if "#" not in text and "\uFF03" not in text:
        return []
    return _unique(tag.lower() for tag in _HASHTAG.findall(text) if not tag.isdigit())


def extract_mentions(text: str) -> list[str]:
    """Lower-cased handles without '@', in order of first use."""
    if "@" not in text and "\uFF20" not in text:
        return []
    return _unique(handle.lower() for handle in _MENTION.findall(text))


def extract_urls(text: str) -> list[str]:
    """Raw URLs (http, https and bare t.co links) as written, in order of first use."""
    if "http" not in text and "t.co/" not in text and "HTTP" not in text:
        return []
    return _unique(url.rstrip(_URL_TAIL) for url in _URL.findall(text))


def normalize_url(url: str) -> str:
    """Registrable domain + path, without protocol, subdomains, query, fragment or trailing slash.

    The host is lower-cased; the path keeps its case (t.co and many sites have case-sensitive paths).
    """
    rest = _SCHEME.sub("", url.strip())
    cut = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    host, path = rest[:cut], rest[cut:]
    path = path.split("#", 1)[0].split("?", 1)[0].rstrip("/")
    host = host.rsplit("@", 1)[-1].split(":", 1)[0].lower().rstrip(".")
    return registrable_domain(host) + path


def url_domain(normalized: str) -> str:
    """The domain of a normalised URL ("bbc.co.uk/news/x" -> "bbc.co.uk")."""
    return normalized.split("/", 1)[0]


def urls_and_domains(raw_urls: list[str]) -> tuple[list[str], list[str]]:
    """Normalised URLs and their domains, each de-duplicated in order."""
    urls = _unique(normalize_url(u) for u in raw_urls if u.strip())
    urls = [u for u in urls if u]
    return urls, _unique(url_domain(u) for u in urls)


@lru_cache(maxsize=65536)
def registrable_domain(host: str) -> str:
    """'www.bbc.co.uk' -> 'bbc.co.uk'; t.co, IP addresses and bare names stay as they are."""
    if host == "t.co" or not host:
        return host
    ext = _tld().extract_str(host)
    return f"{ext.domain}.{ext.suffix}" if ext.domain and ext.suffix else host


def _tld() -> tldextract.TLDExtract:
    # The bundled public-suffix snapshot: no network, no cache folder; loading it takes ~20 ms, once.
    global _extractor
    if _extractor is None:
        _extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    return _extractor


def _unique(items) -> list[str]:
    return list(dict.fromkeys(items))
