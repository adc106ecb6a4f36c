"""The report as files for other tools: a STIX 2.1 bundle (built and checked by the ``stix2`` library, no custom
property, so ``stix2.parse(..., allow_custom=False)`` and OpenCTI read it), a MISP event (JSON as MISP exports it,
loaded by ``pymisp`` in the tests), and the flagged posts and the flagged accounts with every score as tables, each as
CSV (for a spreadsheet: formula-looking cells quoted) or Parquet (typed columns, for pandas, DuckDB or Spark).

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
from dataclasses import dataclass, field
from datetime import datetime

from apps.analyses.models import PostScore
from apps.analyses.selectors import analysis_list
from apps.collections.models import Account, Post
from apps.common.csvfile import csv_bytes
from apps.common.ids import as_id
from apps.reports.content import ACCOUNT_NETWORKS, Content

NAMESPACE = uuid.UUID("5b0d2c52-4f1a-4c57-9a55-0c7c3e1f6d10")  # ids derived for this portal's objects
TABLE_ROWS_MAX = 50_000  # rows of a CSV or Parquet table
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


# Tables: flagged posts and accounts, as CSV or Parquet -------------------------------------------


@dataclass
class Table:
    """One download's columns, each ``(name, type)`` with a type of ``COLUMN_TYPES``, and its rows; ``about`` (what
    was read, from which analyses) goes into a Parquet file's metadata."""

    columns: list[tuple[str, str]]
    rows: list[list]
    about: dict = field(default_factory=dict)


COLUMN_TYPES = ("int", "float", "str", "time")


def table_csv(table: Table) -> bytes:
    """A header line, then the rows: missing values blank, times in ISO 8601, scores to six decimals."""
    return csv_bytes([[name for name, _ in table.columns], *([_csv_cell(v) for v in row] for row in table.rows)])


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return round(value, 6) if isinstance(value, float) else value


def table_parquet(table: Table) -> bytes:
    """A Parquet file with typed columns (missing values null, times in UTC microseconds, zstd-compressed); the
    schema's ``murmuration`` metadata holds ``about`` as JSON."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"int": pa.int64(), "float": pa.float64(), "str": pa.string(), "time": pa.timestamp("us", tz="UTC")}
    schema = pa.schema([pa.field(name, types[kind]) for name, kind in table.columns],
                       metadata={"murmuration": json.dumps(table.about, default=str)})
    columns = list(zip(*table.rows, strict=True)) if table.rows else [()] * len(table.columns)
    arrays = [pa.array(list(values), type=column.type) for values, column in zip(columns, schema, strict=True)]
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_arrays(arrays, schema=schema), sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def _about(content: Content, what: str) -> dict:
    return {"what": what, "investigation": {"id": content.investigation.pk, "name": content.investigation.name},
            "generated_at": content.generated_at.isoformat(), "generated_by": content.generated_by,
            "analyses": [{"id": e["id"], "kind": e["kind"], "model": e["model"]["name"], "threshold": e["threshold"]}
                         for e in content.flagged]}


def flagged_posts_table(content: Content) -> Table:
    """Every post at or above the threshold of any score analysis (at most ``TABLE_ROWS_MAX``, highest first), with
    its score from every score analysis of the investigation (missing where one did not score it)."""
    analyses = content.flagged
    picked: dict[int, None] = {}
    for entry in analyses:
        rows = (PostScore.objects.filter(analysis_id=entry["id"], score__gte=entry["threshold"])
                .order_by("-score", "id").values_list("post_id", flat=True)[:TABLE_ROWS_MAX])
        for post_id in rows:
            if len(picked) >= TABLE_ROWS_MAX:
                break
            picked.setdefault(post_id)
    columns = [("post_id", "int"), ("platform_id", "str"), ("collection", "str"), ("account", "str"),
               ("account_platform_id", "str"), ("time", "time"), ("text", "str"), ("flagged_by", "str"),
               ("unreliable_in", "str")]
    columns += [(f"score_{e['id']} ({e['model']['name']})", "float") for e in analyses]
    return Table(columns, list(_post_rows(analyses, list(picked))), _about(content, "flagged posts"))


def _post_rows(analyses: list[dict], post_ids: list[int]):
    order = [e["id"] for e in analyses]
    thresholds = {e["id"]: e["threshold"] for e in analyses}
    for start in range(0, len(post_ids), LOOKUP_BATCH):
        batch = post_ids[start : start + LOOKUP_BATCH]
        scores, marked = defaultdict(dict), defaultdict(set)
        for analysis_id, post_id, score, unreliable in PostScore.objects.filter(
            analysis_id__in=order, post_id__in=batch
        ).values_list("analysis_id", "post_id", "score", "unreliable"):
            scores[post_id][analysis_id] = score
            if unreliable:
                marked[post_id].add(analysis_id)
        posts = Post.objects.filter(pk__in=batch).select_related("account", "collection").in_bulk()
        for post_id in batch:
            post, own = posts.get(post_id), scores[post_id]
            if post is None:
                continue
            flagged_by = " ".join(f"#{a}" for a in order if own.get(a, -1.0) >= thresholds[a])
            # the scorings whose score of this post is unreliable: unlike that model's training posts
            unreliable_in = " ".join(f"#{a}" for a in order if a in marked[post_id])
            yield [post.pk, post.platform_id, post.collection.name, post.account.handle, post.account.platform_id,
                   post.time, post.text, flagged_by, unreliable_in, *(own.get(a) for a in order)]


ACCOUNT_MEASURES = (("mean", "float"), ("max", "float"), ("share_above", "float"), ("posts", "int"))


def flagged_accounts_table(content: Content) -> Table:
    """Every account whose mean score is at or above the threshold of any score analysis (at most
    ``TABLE_ROWS_MAX``, the highest mean first), with its mean, max, share of posts above the threshold and posts
    scored from every score analysis, and its influence and community in every account network."""
    analyses = content.flagged
    measured = {e["id"]: {as_id(a.get("account_id", "")): a for a in e["all_accounts"]} for e in analyses}
    best: dict[int, float] = {}
    for entry in analyses:
        for pk, row in measured[entry["id"]].items():
            if pk and float(row.get("mean", 0)) >= entry["threshold"]:
                best[pk] = max(best.get(pk, 0.0), float(row["mean"]))
    picked = sorted(best, key=lambda pk: (-best[pk], pk))[:TABLE_ROWS_MAX]
    networks = _account_networks(content, set(picked))
    columns = [("account_id", "int"), ("platform_id", "str"), ("handle", "str"), ("display_name", "str"),
               ("collection", "str"), ("flagged_by", "str")]
    columns += [(f"{m}_{e['id']} ({e['model']['name']})", kind) for e in analyses for m, kind in ACCOUNT_MEASURES]
    columns += [(f"{m}_{n['id']} ({n['kind']})", "int" if m == "community" else "float")
                for n in networks for m in ("influence", "community")]
    about = {**_about(content, "flagged accounts"), "networks": [{k: n[k] for k in ("id", "kind")} for n in networks]}
    return Table(columns, list(_account_rows_of(content, analyses, measured, networks, picked)), about)


def _account_networks(content: Content, account_ids: set[int]) -> list[dict]:
    """Each account network of the investigation with the influence and community of the accounts asked for."""
    out = []
    for analysis in analysis_list(investigation=content.investigation).filter(kind__in=ACCOUNT_NETWORKS):
        nodes = {as_id(n.get("id")): n for n in (analysis.result or {}).get("nodes") or []}
        out.append({"id": analysis.pk, "kind": analysis.kind,
                    "nodes": {pk: nodes[pk] for pk in account_ids if pk in nodes}})
    return out


def _account_rows_of(content: Content, analyses: list[dict], measured: dict, networks: list[dict], picked: list):
    order = [e["id"] for e in analyses]
    thresholds = {e["id"]: e["threshold"] for e in analyses}
    for start in range(0, len(picked), LOOKUP_BATCH):
        batch = picked[start : start + LOOKUP_BATCH]
        accounts = (Account.objects.filter(pk__in=batch, collection__investigation=content.investigation)
                    .select_related("collection").in_bulk())
        for pk in batch:
            account = accounts.get(pk)
            if account is None:
                continue
            own = {a: measured[a].get(pk) or {} for a in order}
            flagged_by = " ".join(f"#{a}" for a in order if float(own[a].get("mean", -1.0)) >= thresholds[a])
            yield [account.pk, account.platform_id, account.handle, account.display_name, account.collection.name,
                   flagged_by, *(_number(own[a].get(m), kind) for a in order for m, kind in ACCOUNT_MEASURES),
                   *(_number(n["nodes"].get(pk, {}).get(m), "int" if m == "community" else "float")
                     for n in networks for m in ("influence", "community"))]


def _number(value, kind: str):
    """A stored number as its column's type (None where missing or not a number)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if kind == "int" else float(value)
