import pytest

from tests.xdist_redis import worker_redis_url


def test_each_worker_gets_its_own_redis_database_below_the_given_one():
    assert worker_redis_url("redis://127.0.0.1:6379/15", "gw0") == "redis://127.0.0.1:6379/15"
    assert worker_redis_url("redis://127.0.0.1:6379/15", "gw1") == "redis://127.0.0.1:6379/13"
    assert worker_redis_url("redis://:secret@cache:6380/9", "gw3") == "redis://:secret@cache:6380/3"
    with pytest.raises(ValueError, match="no Redis database left for xdist worker gw1"):
        worker_redis_url("redis://127.0.0.1:6379/1", "gw1")
