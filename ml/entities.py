"""Entities of a post (hashtags, mentions, URLs, domains): pure functions of the text.

URLs are normalised as the influence-model paper does (docs/methods.md §influence model, section 4.1): an entity is a
topic,
so two links to the same page must compare equal whatever their protocol, subdomain or query string.
"""
from __future__ import annotations

import re
from functools import lru_cache

import tldextract

# '#' or '@' glued to a word (foo#bar, a@b.com) is not an entity; '&' excludes HTML entities (&#39;).
# The lookbehind comes after the marker so that it runs only where a marker is (twice as fast).
_HASHTAG = re.compile(r"[#\uFF03](?<![\w&/][#\uFF03])(\w+)")
_MENTION = re.compile(r"[@\uFF20](?<![\w@/][@\uFF20])(\w{1,50})")
# Two patterns: a lookbehind in an alternation makes the common scan three times slower.
_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_BARE_TCO = re.compile(r"(?<![\w./])t\.co/[^\s<>\"'`]+", re.IGNORECASE)
_URL_TAIL = ".,;:!?)]}'\"\u2026"  # punctuation that ends a sentence, not the link (… ends truncated tweets)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_TCO_PREFIXES = ("https://t.co/", "http://t.co/")
_TCO = re.compile(r"(?:https?://)?(?:www\.)?t\.co(/[^?#/]*)?(?=$|[?#])", re.IGNORECASE)  # t.co with odd case or query

_extractor: tldextract.TLDExtract | None = None


def extract_hashtags(text: str) -> list[str]:
    """Lower-cased hashtags without '#', in order of first use; all-digit tags (#1) are not hashtags."""
    if "#" not in text and "\uFF03" not in text:
        return []
    return _unique([tag.lower() for tag in _HASHTAG.findall(text) if not tag.isdigit()])


def extract_mentions(text: str) -> list[str]:
    """Lower-cased handles without '@', in order of first use."""
    if "@" not in text and "\uFF20" not in text:
        return []
    return _unique([handle.lower() for handle in _MENTION.findall(text)])


def extract_urls(text: str) -> list[str]:
    """Raw URLs as written, de-duplicated: http(s) links in order, then bare t.co links (rare)."""
    if "http" not in text and "t.co/" not in text and "HTTP" not in text:
        return []
    found = _URL.findall(text) if "://" in text else []
    if text.count("t.co/") > text.count("//t.co/"):  # a link written without its protocol
        found += _BARE_TCO.findall(text)
    return _unique([url.rstrip(_URL_TAIL) for url in found]) if found else []


def normalize_url(url: str) -> str:
    """Registrable domain + path, without protocol, subdomains, query, fragment or trailing slash.

    The host is lower-cased; the path keeps its case (t.co and many sites have case-sensitive paths).
    """
    if url.startswith(_TCO_PREFIXES) and "?" not in url and "#" not in url:  # the common tweet link, fast
        return url[url.index("t.co/"):].rstrip("/")
    url = url.strip()
    short = _TCO.match(url)
    if short:
        return ("t.co" + (short.group(1) or "")).rstrip("/")
    rest = _SCHEME.sub("", url)
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
    if not raw_urls:
        return [], []
    urls = _unique([n for n in map(normalize_url, raw_urls) if _is_link(n)])
    return urls, _unique([u.partition("/")[0] for u in urls])


def _is_link(normalized: str) -> bool:
    """False for what truncated tweets leave ('https://t.co/…' -> 't.co', 'http://t.…' -> 't'): a host
    needs a dot, and a t.co link its code."""
    if normalized.startswith("t.co/"):
        return len(normalized) > 5
    host, _, path = normalized.partition("/")
    return "." in host.strip(".") and (host != "t.co" or bool(path))


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


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items)) if len(items) > 1 else items
