"""Analysis kinds: each is a module with

- ``LABEL``: what pages and the job list call it;
- ``params_check(collection, params) -> dict``: the cleaned parameters, or a Django
  ``ValidationError({field: message})`` (runs before any job is queued);
- ``run(analysis_input, progress) -> (result, summary)``: the work, inside the job; ``result`` is what
  the kind's page draws (keep it bounded), ``summary`` the small dict that lists and commands show.
  Raise ``JobError`` with a sentence for the analyst when the data cannot support the analysis.
- optionally ``after_create(analysis, *rows)``: runs inside the transaction that writes the Analysis row;
  ``run`` may return ``(result, summary, rows)`` where rows are too many for ``result`` (``score`` stores
  every post's score this way).

The job framework runs each kind as the job kind ``analysis:<name>`` (see ``apps.analyses.services``).
"""
from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from django.core.exceptions import ValidationError

from apps.analyses.kinds import (authorship, coaction, coordination, hashtag_network, perplexity_matrix, propagation, retweet_network,
                                 score, train_classifier, train_lm)

KINDS: dict[str, ModuleType] = {"authorship": authorship, "coordination": coordination, "coaction": coaction,
                                "propagation": propagation, "retweet_network": retweet_network, "hashtag_network": hashtag_network,
                                "train_classifier": train_classifier, "score": score,
                                "train_lm": train_lm, "perplexity_matrix": perplexity_matrix}


@dataclass(frozen=True)
class AnalysisInput:
    investigation: object
    collection: object | None
    params: dict
    job: object


def kind_get(name: str) -> ModuleType:
    try:
        return KINDS[name]
    except KeyError:
        raise ValidationError({"kind": f"Unknown analysis {name!r}; choose one of {', '.join(sorted(KINDS))}."}) from None


def kind_names() -> list[str]:
    return sorted(KINDS)
