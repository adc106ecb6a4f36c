"""Reading the DISARM framework's STIX 2.1 bundle: plain JSON, no Django, no database.

Tactics are ``x-mitre-tactic`` objects, techniques ``attack-pattern`` objects; both carry their DISARM id
(TA01, T0049, T0049.001) as an external reference's ``external_id``. A technique names its tactic by
``kill_chain_phases[].phase_name``, the tactic's ``x_mitre_shortname``. A sub-technique's parent is the id
before the dot (the bundle's ``subtechnique-of`` relationships say the same).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


class BundleError(ValueError):
    """The file is not a DISARM STIX bundle."""


@dataclass(frozen=True)
class Tactic:
    external_id: str
    name: str
    shortname: str
    description: str


@dataclass(frozen=True)
class Technique:
    external_id: str
    name: str
    description: str
    tactic_shortname: str
    parent_id: str


@dataclass(frozen=True)
class DisarmBundle:
    tactics: list[Tactic]
    techniques: list[Technique]


def bundle_read(path: Path) -> DisarmBundle:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{path}: cannot read a JSON bundle ({exc})") from exc
    if not isinstance(data, dict) or data.get("type") != "bundle" or not isinstance(data.get("objects"), list):
        raise BundleError(f"{path}: not a STIX bundle (no type 'bundle' with a list of objects)")
    live = [
        o for o in data["objects"] if isinstance(o, dict) and not o.get("revoked") and not o.get("x_mitre_deprecated")
    ]
    tactics = [_tactic(o) for o in live if o.get("type") == "x-mitre-tactic"]
    techniques = [_technique(o) for o in live if o.get("type") == "attack-pattern"]
    if not tactics or not techniques:
        raise BundleError(f"{path}: no DISARM tactics or techniques in the bundle")
    return DisarmBundle(tactics=tactics, techniques=techniques)


def _external_id(obj: dict) -> str:
    for ref in obj.get("external_references") or []:
        if isinstance(ref, dict) and ref.get("external_id"):
            return str(ref["external_id"]).strip()
    raise BundleError(f"{obj.get('id')}: no external_id")


def _tactic(obj: dict) -> Tactic:
    return Tactic(_external_id(obj), str(obj.get("name", "")), str(obj.get("x_mitre_shortname", "")),
                  str(obj.get("description", "")))


def _technique(obj: dict) -> Technique:
    external_id = _external_id(obj)
    phases = [p.get("phase_name", "") for p in obj.get("kill_chain_phases") or [] if isinstance(p, dict)]
    parent = external_id.split(".")[0] if "." in external_id else ""
    return Technique(external_id, str(obj.get("name", "")), str(obj.get("description", "")),
                     phases[0] if phases else "", parent)
