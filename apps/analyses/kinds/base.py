"""The shape of an analysis kind: a ``Kind`` subclass with its parameters declared once (``Param``), and
explicit hooks, each with a default that does nothing. ``apps.analyses.registry`` lists every kind.

One declaration of a parameter gives the start page's form field, the API schema's field, the
``run_analysis --param`` help, and the one check all three go through (``Kind.check``), so a bad value
gets the same sentence wherever it was typed. See docs/adding-a-kind.md.

This module imports nothing of the project: models, selectors and views may all read the registry.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError

INT, FLOAT, FLAG, CHOICE, LIST, TEXT, DATE = "int", "float", "flag", "choice", "list", "text", "date"
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
LIST_ITEMS_MAX = 1_000


@dataclass(frozen=True)
class Param:
    """One parameter: its type, default (a value, or a callable read when needed, e.g. an ml config's
    own default), range or choices, and a sentence of help for the form, the schema and the command.

    ``choices`` are the allowed values of a ``choice`` and the allowed items of a ``list`` (empty: any);
    ``item`` is a list's item type (``TEXT``, ``INT`` or ``FLOAT``); ``form=False`` keeps a parameter off
    the start page (set by the API and the command only, e.g. a seed)."""

    name: str
    type: str
    default: Any = None
    help: str = ""
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False
    choices: tuple = ()
    choice_labels: dict = field(default_factory=dict)
    item: str = TEXT
    max_items: int = LIST_ITEMS_MAX
    max_length: int = 500
    form: bool = True
    label: str = ""

    def default_value(self):
        value = self.default() if callable(self.default) else self.default
        return list(value) if isinstance(value, tuple) else value

    def clean(self, raw, errors: dict):
        """The clean value of ``raw`` as a form, the API (JSON) or ``--param`` (text) sends it; missing or
        blank gives the default. A problem writes one sentence into ``errors[name]``."""
        if raw is None or (isinstance(raw, str) and not raw.strip() and self.type != LIST):
            return self.default_value()
        try:
            return getattr(self, f"_clean_{self.type}")(raw)
        except ValueError as exc:
            errors[self.name] = str(exc)
            return self.default_value()

    # One rule per type ------------------------------------------------------------------------

    def _number(self, raw, cast):
        if isinstance(raw, bool) or isinstance(raw, (list, dict)):
            raise ValueError(self._type_error(raw))
        if cast is int and isinstance(raw, float) and not raw.is_integer():
            raise ValueError(self._type_error(raw))
        try:
            value = cast(raw.strip() if isinstance(raw, str) else raw)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(self._type_error(raw)) from None
        self._in_range(value, raw)
        return value

    def _type_error(self, raw) -> str:
        whole = "whole " if INT in (self.type, self.item) else ""
        return f"{self.name} must be a {whole}number; got {_shown(raw)}."

    def _in_range(self, value, raw) -> None:
        low_ok = self.low is None or (value > self.low if self.open_low else value >= self.low)
        high_ok = self.high is None or (value < self.high if self.open_high else value <= self.high)
        if isinstance(value, float) and math.isnan(value) or not (low_ok and high_ok):
            raise ValueError(f"{self.name} must be {self.range_text()}; got {_shown(raw)}.")

    def range_text(self) -> str:
        if self.low is None and self.high is None:
            return "a number"
        if (self.type == INT or self.item == INT) and not (self.open_low or self.open_high):
            if self.high is None:
                return f"at least {self.low:,}"
            return f"between {self.low:,} and {self.high:,}"
        left, right = "(" if self.open_low else "[", ")" if self.open_high else "]"
        return f"in {left}{_num(self.low, '-inf')}, {_num(self.high, 'inf')}{right}"

    def _clean_int(self, raw) -> int:
        return self._number(raw, int)

    def _clean_float(self, raw) -> float:
        return self._number(raw, float)

    def _clean_flag(self, raw) -> bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower() if isinstance(raw, (str, int)) else None
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise ValueError(f"{self.name} must be true or false; got {_shown(raw)}.")

    def _clean_choice(self, raw) -> str:
        value = raw.strip() if isinstance(raw, str) else raw
        if not isinstance(value, str) or value not in self.choices:
            raise ValueError(f"{self.name} must be one of {', '.join(self.choices)}; got {_shown(raw)}.")
        return value

    def _clean_text(self, raw) -> str:
        if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
            raise ValueError(f"{self.name} must be text; got {_shown(raw)}.")
        value = str(raw).strip()
        if "\x00" in value:
            raise ValueError(f"{self.name} must not hold a NUL character.")
        if len(value) > self.max_length:
            raise ValueError(f"{self.name} must be at most {self.max_length:,} characters; got {len(value):,}.")
        return value

    def _clean_date(self, raw) -> str:
        if isinstance(raw, (date, datetime)):
            return raw.isoformat()
        text = self._clean_text(raw)
        try:
            datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{self.name} must be a date like 2024-03-16; got {_shown(raw)}.") from None
        return text

    def _clean_list(self, raw) -> list:
        """A list, or comma-separated text (the command line's ``--param key=a,b``); items deduplicated."""
        if isinstance(raw, str):
            items = raw.split(",")
        elif isinstance(raw, (list, tuple)):
            items = list(raw)
        else:
            raise ValueError(f"{self.name} must be a list (or comma-separated text); got {_shown(raw)}.")
        if len(items) > self.max_items:
            raise ValueError(f"{self.name} takes at most {self.max_items:,} items; got {len(items):,}.")
        if any(isinstance(v, (list, dict, bool)) or v is None for v in items):
            raise ValueError(
                f"{self.name} must be a list of {'numbers' if self.item != TEXT else 'words'}; got {_shown(raw)}."
            )
        values = list(dict.fromkeys(s for s in (str(v).strip() for v in items) if s))
        if any("\x00" in v for v in values):
            raise ValueError(f"{self.name} must not hold a NUL character.")
        if self.item != TEXT:
            cast = int if self.item == INT else float
            values = list(dict.fromkeys(self._number(v, cast) for v in values))
        if self.choices:
            unknown = [v for v in values if v not in self.choices]
            if unknown:
                raise ValueError(
                    f"{self.name}: unknown {', '.join(map(str, unknown))}; choose from {', '.join(self.choices)}."
                )
            if not values:
                raise ValueError(f"{self.name}: choose at least one of {', '.join(self.choices)}.")
        return values

    def describe(self) -> str:
        """One line of ``run_analysis --help``."""
        default = self.default_value()
        what = {LIST: "list", FLAG: "true/false", CHOICE: "|".join(self.choices)}.get(self.type, self.type)
        shown = ",".join(map(str, default)) if isinstance(default, list) else default
        return f"{self.name} ({what}{'' if shown in (None, '', []) else f', default {shown}'}): {self.help}".rstrip(
            ": "
        )


class Outcome(NamedTuple):
    """What ``Kind.run`` returns: ``result`` is what the kind's page draws (keep it bounded), ``summary``
    the small dict lists and commands show, ``rows`` what is too many for ``result`` (``score``: every
    post's score), which ``after_create`` writes beside the Analysis row."""

    result: dict
    summary: dict
    rows: Any = None


@dataclass(frozen=True)
class AnalysisInput:
    investigation: Any
    collection: Any
    params: dict
    job: Any


class Kind:
    """An analysis kind. Subclasses set ``name``, ``label`` and ``params`` and override ``run``; every
    other hook is optional and its default does nothing. The job framework runs each kind as the job kind
    ``analysis:<name>`` (``apps.analyses.services``); its page is ``templates/analyses/<name>.html``."""

    name: str = ""
    label: str = ""
    params: tuple[Param, ...] = ()
    internal: frozenset = frozenset()  # keys the service itself adds (never typed by a person)
    exports: tuple[str, ...] = ()  # file formats of ``export`` ("gexf", "graphml", "csv")
    has_evidence: bool = False  # ``evidence`` answers for an edge source→target
    has_timeline: bool = False  # ``timeline`` answers for a hashtag or domain

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)

    def check(self, collection, raw: dict) -> dict:
        """The clean parameters, or ``ValidationError({field: sentence})`` with every problem at once;
        runs before any job is queued."""
        errors: dict[str, str] = {}
        if not isinstance(raw, dict):
            raise ValidationError({"params": f"params must be an object of parameters; got {_shown(raw)}."})
        known = {p.name for p in self.params}
        unknown = sorted(set(raw) - known - self.internal, key=str)
        if unknown:
            errors["params"] = (
                f"Unknown parameter(s) {', '.join(map(str, unknown))}; {self.name} takes {', '.join(sorted(known))}."
            )
        clean = {p.name: p.clean(raw.get(p.name), errors) for p in self.params}
        # A value that failed its own check stands at its default here, so ``validate`` still runs and every
        # problem is reported at once; the first sentence about a field wins.
        later: dict[str, str] = {}
        clean = self.validate(collection, clean, later)
        for key, sentence in later.items():
            errors.setdefault(key, sentence)
        if errors:
            raise ValidationError(errors)
        return clean

    # Hooks -----------------------------------------------------------------------------------

    def validate(self, collection, clean: dict, errors: dict) -> dict:
        """Checks that need the collection or several parameters (each value already has its type and
        range); write sentences into ``errors``; return the parameters to store."""
        return clean

    def run(self, analysis_input: AnalysisInput, progress) -> Outcome:
        """The work, inside the job. Raise ``JobError`` with a sentence when the data cannot support it."""
        raise NotImplementedError(f"{type(self).__name__}.run")

    def after_create(self, analysis, rows) -> dict:
        """Inside the transaction that writes the Analysis row: write ``rows`` and rows of other models;
        return the job's summary."""
        return analysis.summary

    def cleanup(self, job) -> None:
        """Remove what a failed run left outside the database (staged files)."""

    def follow_ups(self, analysis) -> list[tuple[str, dict]]:
        """Analyses to start on the same collection once this one is stored, as ``(kind, params)``: a text
        classifier asked to ``score_after`` scores its collection with the model it made. Each goes through
        ``analysis_start`` (its checks, its job, its audit entry) after the Analysis row has committed."""
        return []

    def page_context(self, analysis) -> dict:
        """What the kind's template draws."""
        return {}

    def page_query(self, analysis, query) -> dict:
        """Context that depends on the request's query string (sorting, filters, paging)."""
        return {}

    def evidence(self, analysis, source: int, target: int) -> dict:
        raise NotImplementedError(f"{self.name} has no edge evidence")

    def timeline(self, analysis, *, kind: str, value: str, freq: str) -> dict:
        raise NotImplementedError(f"{self.name} has no timelines")

    def export(self, analysis, fmt: str) -> bytes:
        raise NotImplementedError(f"{self.name} has no exports")


# The registry: filled once by ``apps.analyses.registry`` when the app is ready ---------------------

_KINDS: dict[str, Kind] = {}


def register(*kinds: Kind) -> None:
    for kind in kinds:
        if not kind.name or kind.name in _KINDS:
            raise ValueError(f"analysis kind {kind.name!r} has no name or is registered twice")
        _KINDS[kind.name] = kind


def kind_get(name: str) -> Kind:
    try:
        return _KINDS[name]
    except (KeyError, TypeError):
        raise ValidationError(
            {"kind": f"Unknown analysis {_shown(name)}; choose one of {', '.join(kind_names())}."}
        ) from None


def kind_names() -> list[str]:
    return sorted(_KINDS)


def kind_label(name: str) -> str:
    kind = _KINDS.get(name)
    return kind.label if kind else str(name).replace("_", " ").capitalize()


def _shown(raw) -> str:
    text = repr(raw)
    return text if len(text) <= 80 else f"{text[:77]}..."


def _num(value, missing: str) -> str:
    return missing if value is None else f"{value:g}"


def config_or_errors(make, errors: dict):
    """Build an ml config once, so its own checks speak too: an error carrying ``field`` (``ml.checks.ParamError``)
    becomes that field's sentence, any other ValueError the parameters' as a whole."""
    try:
        return make()
    except ValueError as exc:
        errors[getattr(exc, "field", None) or "params"] = str(exc)
        return None


def errors_to_sentence(exc: ValidationError) -> str:
    """A ValidationError as the command line shows it: ``field: sentence; field: sentence``."""
    if not hasattr(exc, "error_dict"):
        return " ".join(exc.messages)
    return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
