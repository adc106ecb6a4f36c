"""Job kinds: each app registers what runs a kind and what removes a failed run's partial output.

The job framework knows nothing of imports or detectors; a kind is two functions:

- ``run(job, progress) -> dict``: does the work, reports through ``progress(fraction, stage)``,
  returns the JSON summary stored as the job's result;
- ``cleanup(job)``: removes whatever a run that failed, was cancelled or died left behind;

and, optionally, ``page_context(job) -> dict``: what the job's page shows of this kind besides its state
(an import: the files read and their rows).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

_KINDS: dict[str, "JobKind"] = {}


@dataclass(frozen=True)
class JobKind:
    name: str
    run: Callable
    cleanup: Callable
    label: str
    page_context: Callable | None = None


def job_kind_register(*, name: str, run: Callable, cleanup: Callable, label: str = "",
                      page_context: Callable | None = None) -> None:
    _KINDS[name] = JobKind(name=name, run=run, cleanup=cleanup, label=label or name, page_context=page_context)


def job_kind_get(name: str) -> JobKind:
    try:
        return _KINDS[name]
    except KeyError:
        known = ", ".join(sorted(_KINDS)) or "none"
        raise ValueError(f"unknown job kind {name!r} (known: {known})") from None


def job_kinds() -> list[str]:
    return sorted(_KINDS)
