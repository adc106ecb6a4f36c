"""The report as files for other tools: a STIX 2.1 bundle (built and checked by the ``stix2`` library, no custom
property, so ``stix2.parse(..., allow_custom=False)`` and OpenCTI read it), a MISP event (JSON as MISP exports it)
and a CSV of the flagged posts with every score.

STIX, what goes where:

- one ``report`` (the investigation) referring to every other object;
- ``attack-pattern`` per DISARM technique the case tags, its id derived from the technique's external id (the same
  technique has the same id in every report), with ``external_references`` ``DISARM``/``T0049``;
- ``user-account`` observables for flagged accounts (a score analysis's mean at or above its threshold, or a DISARM
  tag on the account) and for both ends of each coordination edge; a ``note`` on each flagged account gives why and
  its evidence posts (STIX 2.1 has no object for a social-media post);
- ``note`` per case note, referring to the report and to the techniques tagged on it;
- ``relationship`` ``related-to`` per coordination edge at or above the weight threshold, and from a tagged account
  to its technique (the procedure as description).
"""
from __future__ import annotations

import json
import uuid
from collections import defaultdict

from apps.analyses.models import PostScore
from apps.collections.models import Post
from apps.common.csvfile import csv_bytes
from apps.reports.content import Content

NAMESPACE = uuid.UUID("5b0d2c52-4f1a-4c57-9a55-0c7c3e1f6d10")  # ids derived for this portal's objects
CSV_POSTS_MAX = 50_000
LOOKUP_BATCH = 900
ABSTRACT_MAX = 120


def _derived(kind: str, key: str) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, key)}"


def _clean(**values) -> dict:
    return {k: v for k, v in values.items() if v not in (None, "", [], {})}


# STIX 2.1 ---------------------------------------------------------------------------------------


def stix_bundle(content: Content) -> bytes:
    """The bundle as JSON bytes (the library validates every object as it is made)."""
    import stix2

    identity = stix2.Identity(id=_derived("identity", "murmuration"), name="Murmuration", identity_class="system",
                              created="2024-01-01T00:00:00Z", modified="2024-01-01T00:00:00Z")
    by = {"created_by_ref": identity.id}
    report_id = f"report--{uuid.uuid4()}"
    patterns = {t["external_id"]: _attack_pattern(stix2, t, by) for t in content.techniques}
    accounts = {pk: _user_account(stix2, row) for pk, row in content.accounts.items()}
    for edge in content.edges:
        for end in (edge["source"], edge["target"]):
            if end["id"] not in accounts:
                accounts[end["id"]] = _user_account(stix2, end)
    objects = [identity, *patterns.values(), *{a.id: a for a in accounts.values()}.values()]
    objects += _account_notes(stix2, content, accounts, by)
    objects += _case_notes(stix2, content, report_id, patterns, accounts, by)
    objects += _relationships(stix2, content, patterns, accounts, by)
    report = stix2.Report(id=report_id, name=f"{content.investigation.name}: case report",
                          published=content.generated_at, report_types=["threat-report"],
                          description=content.investigation.description or None,
                          object_refs=[o.id for o in objects], created=content.generated_at,
                          modified=content.generated_at, **by)
    # The library's ``pretty=True`` sorts every object's keys against the whole bundle (27 s for 3,000 objects):
    # its plain serialisation, indented by json, keeps the same key order in milliseconds.
    text = stix2.Bundle(objects=[report, *objects]).serialize()
    return json.dumps(json.loads(text), indent=1, ensure_ascii=False).encode("utf-8")


def _attack_pattern(stix2, technique: dict, by: dict):
    phases = ([{"kill_chain_name": "disarm", "phase_name": technique["tactic_shortname"]}]
              if technique["tactic_shortname"] else None)
    return stix2.AttackPattern(
        id=_derived("attack-pattern", f"disarm:{technique['external_id']}"), name=technique["name"],
        description=technique["description"] or None, kill_chain_phases=phases,
        external_references=[{"source_name": "DISARM", "external_id": technique["external_id"]}],
        created="2024-01-01T00:00:00Z", modified="2024-01-01T00:00:00Z", **by)


def _user_account(stix2, row: dict):
    """A user-account observable; its id is derived by the library from the platform id and handle, so an account
    met twice (flagged and on an edge) is one object."""
    return stix2.UserAccount(**_clean(user_id=row["platform_id"], account_login=row.get("handle") or None,
                                      display_name=row.get("display_name") or None))


def _account_notes(stix2, content: Content, accounts: dict, by: dict) -> list:
    notes = []
    for pk, row in content.accounts.items():
        lines = [f"Flagged: {reason}." for reason in row["reasons"]]
        lines += [f"Evidence post {p['platform_id']} ({p['time']:%Y-%m-%d %H:%M} UTC, score {p['score']:.3f}, "
                  f"analysis #{p['analysis']}): {p['text']}" if p["time"] else
                  f"Evidence post {p['platform_id']} (score {p['score']:.3f}): {p['text']}" for p in row["posts"]]
        notes.append(stix2.Note(abstract=f"Why @{row['handle'] or row['platform_id']} is flagged"[:ABSTRACT_MAX],
                                content="\n".join(lines) or "Flagged.", object_refs=[accounts[pk].id],
                                created=content.generated_at, modified=content.generated_at, **by))
    return notes


def _case_notes(stix2, content: Content, report_id: str, patterns: dict, accounts: dict, by: dict) -> list:
    tagged = defaultdict(set)
    for technique in content.techniques:
        for note_id in technique["notes"]:
            tagged[note_id].add(patterns[technique["external_id"]].id)
    out = []
    for note in content.notes:
        refs = [report_id, *sorted(tagged.get(note["id"], ()))]
        account = accounts.get(note["target_ref"].get("account")) if note["target_type"] == "account" else None
        if account is not None:
            refs.append(account.id)
        first = note["body"].strip().splitlines()[0] if note["body"].strip() else f"Note #{note['id']}"
        out.append(stix2.Note(abstract=first[:ABSTRACT_MAX], content=note["body"], authors=[note["author"]],
                              object_refs=refs, created=note["created_at"],
                              modified=max(note["updated_at"], note["created_at"]), **by))
    return out


def _relationships(stix2, content: Content, patterns: dict, accounts: dict, by: dict) -> list:
    out = []
    for edge in content.edges:
        out.append(stix2.Relationship(
            source_ref=accounts[edge["source"]["id"]].id, target_ref=accounts[edge["target"]["id"]].id,
            relationship_type="related-to",
            description=f"Coordinated: edge weight {edge['weight']:.4g} in {edge['title']} (analysis "
                        f"#{edge['analysis']}, {edge['kind']}).", **by))
    for technique in content.techniques:
        for tag in technique["tags"]:
            account = accounts.get(tag["target_ref"].get("account")) if tag["target_type"] == "account" else None
            if account is not None:
                out.append(stix2.Relationship(
                    source_ref=account.id, target_ref=patterns[technique["external_id"]].id,
                    relationship_type="related-to", description=tag["procedure"] or None, **by))
    return out


# MISP -------------------------------------------------------------------------------------------


def galaxy_tag(technique: dict) -> str:
    return f'misp-galaxy:disarm-techniques="{technique["external_id"]} - {technique["name"]}"'


def misp_event(content: Content) -> bytes:
    """A MISP event as MISP's own JSON export writes one: DISARM techniques as galaxy tags on the event (and on the
    accounts tagged with them), a text attribute per flagged account, a url attribute per URL they shared, and the
    case notes as an event report."""
    stamp = str(int(content.generated_at.timestamp()))
    techniques = {t["external_id"]: t for t in content.techniques}

    def attribute(**values) -> dict:
        return {"uuid": str(uuid.uuid4()), "to_ids": False, "distribution": "5", "timestamp": stamp, **values}

    attributes = [
        attribute(type="text", category="Social network", value=f"@{row['handle']}" if row["handle"]
                  else row["platform_id"], comment=_account_comment(row),
                  **({"Tag": [{"name": galaxy_tag(techniques[t])} for t in row["techniques"] if t in techniques]}
                     if row["techniques"] else {}))
        for row in content.accounts.values()
    ]
    attributes += [attribute(type="url", category="Network activity", value=u["url"],
                             comment=f"shared {u['shares']} times by the flagged accounts") for u in content.urls]
    event = {
        "uuid": str(uuid.uuid4()), "info": f"{content.investigation.name}: case report",
        "date": f"{content.generated_at:%Y-%m-%d}", "timestamp": stamp, "published": False,
        "analysis": "1", "threat_level_id": "4", "distribution": "0",
        "Tag": [{"name": galaxy_tag(t)} for t in content.techniques],
        "Attribute": attributes,
    }
    if content.notes:
        body = "\n\n---\n\n".join(f"**Note #{n['id']}** ({n['author']}, {n['updated_at']:%Y-%m-%d})\n\n{n['body']}"
                                  for n in content.notes)
        event["EventReport"] = [{"uuid": str(uuid.uuid4()), "name": "Case notes", "content": body,
                                 "distribution": "5", "timestamp": stamp}]
    return json.dumps({"Event": event}, indent=1, ensure_ascii=False, default=str).encode("utf-8")


def _account_comment(row: dict) -> str:
    parts = [f"platform id {row['platform_id']}", f"collection {row['collection']}", *row["reasons"]]
    parts += [f"evidence post {p['platform_id']} (score {p['score']:.3f})" for p in row["posts"]]
    return "; ".join(parts)[:2_000]


# CSV --------------------------------------------------------------------------------------------


def flagged_posts_csv(content: Content) -> bytes:
    """Every post at or above the threshold of any score analysis (at most ``CSV_POSTS_MAX``, highest first), with
    its score from every score analysis of the investigation (blank where one did not score it)."""
    analyses = content.flagged
    picked: dict[int, None] = {}
    for entry in analyses:
        rows = (PostScore.objects.filter(analysis_id=entry["id"], score__gte=entry["threshold"])
                .order_by("-score", "id").values_list("post_id", flat=True)[:CSV_POSTS_MAX])
        for post_id in rows:
            if len(picked) >= CSV_POSTS_MAX:
                break
            picked.setdefault(post_id)
    header = ["post_id", "platform_id", "collection", "account", "account_platform_id", "time", "text", "flagged_by"]
    header += [f"score_{e['id']} ({e['model']['name']})" for e in analyses]
    return csv_bytes([header, *_csv_rows(analyses, list(picked))])


def _csv_rows(analyses: list[dict], post_ids: list[int]):
    order = [e["id"] for e in analyses]
    thresholds = {e["id"]: e["threshold"] for e in analyses}
    for start in range(0, len(post_ids), LOOKUP_BATCH):
        batch = post_ids[start : start + LOOKUP_BATCH]
        scores = defaultdict(dict)
        for analysis_id, post_id, score in PostScore.objects.filter(analysis_id__in=order, post_id__in=batch
                                                                    ).values_list("analysis_id", "post_id", "score"):
            scores[post_id][analysis_id] = score
        posts = Post.objects.filter(pk__in=batch).select_related("account", "collection").in_bulk()
        for post_id in batch:
            post, own = posts.get(post_id), scores[post_id]
            if post is None:
                continue
            flagged_by = " ".join(f"#{a}" for a in order if own.get(a, -1.0) >= thresholds[a])
            yield [post.pk, post.platform_id, post.collection.name, post.account.handle, post.account.platform_id,
                   post.time.isoformat() if post.time else "", post.text, flagged_by,
                   *("" if own.get(a) is None else round(own[a], 6) for a in order)]
