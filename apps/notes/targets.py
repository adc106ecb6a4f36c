"""What a note or tag describes: checked against the investigation on write, named and linked on read.

A target is ``(target_type, ref)`` with ``ref`` one of::

    investigation  {}
    account        {"account": id}            post    {"post": id}          entity  {"entity": id}
    analysis       {"analysis": id}           community {"analysis": id, "community": n}
    edge           {"analysis": id, "source": account id, "target": account id}
    note           {"note": id}               (tags only)     pin     {"pin": id}

Errors name the form field that holds the bad id, so a page or an API shows them beside it.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.analyses.models import Analysis
from apps.collections.models import Account, Entity, Post
from apps.common.ids import as_id
from apps.investigations.models import Investigation
from apps.notes.models import Note, TargetType
from apps.pins.models import Pin

REF_FIELDS = {
    TargetType.INVESTIGATION: (),
    TargetType.ACCOUNT: ("account",),
    TargetType.POST: ("post",),
    TargetType.ENTITY: ("entity",),
    TargetType.ANALYSIS: ("analysis",),
    TargetType.COMMUNITY: ("analysis", "community"),
    TargetType.EDGE: ("analysis", "source", "target"),
    TargetType.NOTE: ("note",),
    TargetType.PIN: ("pin",),
}
ALL_REF_FIELDS = ("account", "post", "entity", "analysis", "community", "source", "target", "note", "pin")


def target_clean(*, investigation: Investigation, target_type: str, ref: dict, allowed: list[str]) -> dict:
    """The ref reduced to the fields its type needs, each checked to exist in ``investigation``."""
    if target_type not in allowed:
        raise ValidationError({"target_type": f"Choose one of {', '.join(allowed)}."})
    clean = {}
    for field in REF_FIELDS[target_type]:
        value = ref.get(field)
        number = _community_number(value) if field == "community" else as_id(value) if value is not None else None
        if number is None:
            raise ValidationError({field: f"A {target_type} target needs {field} (a whole number)."})
        clean[field] = number
    _check_exists(investigation, target_type, clean)
    return clean


def _community_number(value) -> int | None:
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


def _check_exists(investigation: Investigation, target_type: str, ref: dict) -> None:
    in_case = {"collection__investigation": investigation}
    checks = {
        "account": lambda: Account.objects.filter(pk=ref["account"], **in_case).exists(),
        "post": lambda: Post.objects.filter(pk=ref["post"], **in_case).exists(),
        "entity": lambda: Entity.objects.filter(pk=ref["entity"], **in_case).exists(),
        "note": lambda: Note.objects.filter(pk=ref["note"], investigation=investigation).exists(),
        "pin": lambda: Pin.objects.filter(pk=ref["pin"], investigation=investigation).exists(),
        "analysis": lambda: Analysis.objects.filter(pk=ref["analysis"], investigation=investigation).exists(),
    }
    for field, exists in checks.items():
        if field in ref and not exists():
            raise ValidationError({field: f"No {field} {ref[field]} in this investigation."})
    if target_type == TargetType.COMMUNITY:
        _check_community(ref)
    elif target_type == TargetType.EDGE:
        _check_edge(ref)


def _result(analysis_id: int) -> dict:
    return Analysis.objects.filter(pk=analysis_id).values_list("result", flat=True).first() or {}


def _check_community(ref: dict) -> None:
    result = _result(ref["analysis"])
    numbers = {c.get("community") for c in result.get("communities", [])}
    numbers |= {n.get("community") for n in result.get("nodes", [])}
    if ref["community"] not in numbers:
        raise ValidationError({"community": f"Analysis {ref['analysis']} has no community {ref['community']}."})


def _check_edge(ref: dict) -> None:
    pair = {ref["source"], ref["target"]}
    if not any({e.get("source"), e.get("target")} == pair for e in _result(ref["analysis"]).get("edges", [])):
        edge = f"{ref['source']} – {ref['target']}"
        raise ValidationError({"target": f"Analysis {ref['analysis']} has no stored edge {edge}."})


@dataclass
class Described:
    label: str
    url: str | None  # None: the target has been deleted since


def targets_describe(*, investigation: Investigation, items: list) -> dict[int, Described]:
    """``{id(item): Described}`` for notes or tags, in one query per kind of row, not one per item."""
    ids = {f: set() for f in ("account", "post", "entity", "analysis", "pin")}
    for item in items:
        ref = item.target_ref
        for field in ids:
            if field in ref:
                ids[field].add(ref[field])
        if item.target_type == TargetType.EDGE:
            ids["account"] |= {ref["source"], ref["target"]}
    rows = {
        "account": Account.objects.filter(pk__in=ids["account"], collection__investigation=investigation).in_bulk(),
        "post": Post.objects.filter(pk__in=ids["post"], collection__investigation=investigation).in_bulk(),
        "entity": Entity.objects.filter(pk__in=ids["entity"], collection__investigation=investigation).in_bulk(),
        "analysis": Analysis.objects.filter(pk__in=ids["analysis"], investigation=investigation)
        .only("id", "kind", "params", "summary")
        .in_bulk(),
        "pin": Pin.objects.filter(pk__in=ids["pin"], investigation=investigation).only("id", "caption").in_bulk(),
    }
    return {id(item): _describe(investigation, item.target_type, item.target_ref, rows) for item in items}


def _describe(investigation, target_type: str, ref: dict, rows: dict) -> Described:
    if target_type == TargetType.INVESTIGATION:
        return Described("the investigation", reverse("investigation-detail", args=[investigation.pk]))
    if target_type == TargetType.NOTE:
        return Described(f"note #{ref['note']}", reverse("note-list", args=[investigation.pk]) + f"#note-{ref['note']}")
    key = "analysis" if "analysis" in ref else target_type
    row = rows[key].get(ref[key])
    if row is None:
        return Described(f"{target_type} {ref.get(key)} (deleted)", None)
    return _DESCRIBERS[target_type](row, ref, rows)


def _account(row, ref, rows) -> Described:
    url = reverse("collection-posts", args=[row.collection_id]) + f"?account={row.pk}"
    return Described(f"account {row}", url)


def _post(row, ref, rows) -> Described:
    url = reverse("collection-posts", args=[row.collection_id]) + f"?account={row.account_id}#post-{row.pk}"
    return Described(f"post {row.platform_id}", url)


def _entity(row, ref, rows) -> Described:
    return Described(f"{row.kind} {row.value}", reverse("collection-detail", args=[row.collection_id]))


def _analysis(row, ref, rows) -> Described:
    return Described(f"{row.title} #{row.pk}", reverse("analysis-detail", args=[row.pk]))


def _pin(row, ref, rows) -> Described:
    return Described(f"pin “{row.caption}”", reverse("pin-open", args=[row.pk]))


def _community(row, ref, rows) -> Described:
    url = reverse("analysis-detail", args=[row.pk]) + f"#community-{ref['community']}"
    return Described(f"community {ref['community']} of {row.title} #{row.pk}", url)


def _edge(row, ref, rows) -> Described:
    def name(account_id):
        account = rows["account"].get(account_id)
        return str(account) if account else str(account_id)

    label = f"edge {name(ref['source'])} → {name(ref['target'])} of {row.title} #{row.pk}"
    return Described(label, reverse("analysis-detail", args=[row.pk]) + "#network")


_DESCRIBERS = {
    TargetType.ACCOUNT: _account,
    TargetType.POST: _post,
    TargetType.ENTITY: _entity,
    TargetType.ANALYSIS: _analysis,
    TargetType.COMMUNITY: _community,
    TargetType.EDGE: _edge,
    TargetType.PIN: _pin,
}
