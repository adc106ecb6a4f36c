"""bench/ingest.py --cpu: the CPU it reads and the indexes its arms drop."""
from __future__ import annotations

import importlib.util
import os
import resource
from pathlib import Path

import pytest
from django.db import connection

BENCH = Path(__file__).resolve().parents[2] / "bench" / "ingest.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_ingest", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_it_reads_a_process_cpu_as_getrusage_does(bench):
    before = bench._cpu_seconds(os.getpid())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    spin = sum(i * i for i in range(3_000_000))
    after = bench._cpu_seconds(os.getpid())
    spent = resource.getrusage(resource.RUSAGE_SELF)
    assert spin > 0
    expected = spent.ru_utime + spent.ru_stime - usage.ru_utime - usage.ru_stime
    assert expected > 0.05
    assert abs((after - before) - expected) < 0.05 + 0.1 * expected  # clock ticks are 10 ms


def test_it_refuses_an_unknown_arm(bench):
    with pytest.raises(SystemExit, match="unknown arm"):
        bench._arm_indexes(None, "no-such-arm")


@pytest.mark.services
@pytest.mark.django_db
def test_no_secondary_drops_every_index_but_the_constraints(bench):
    if connection.vendor != "postgresql":
        pytest.skip("the arms drop PostgreSQL indexes")
    with connection.cursor() as cursor:
        dropped = bench._arm_indexes(cursor, "no-secondary")
    assert "post_text_upper_trgm_idx" in dropped
    assert "interaction_action_time_idx" in dropped
    assert "post_collection_time_idx" in dropped
    assert "collections_post_pkey" not in dropped
    assert "post_platform_id_unique" not in dropped
    assert bench._arm_indexes(None, "drop:a+b") == ["a", "b"]
    assert bench._arm_indexes(None, "no-trigram") == ["post_text_upper_trgm_idx"]
