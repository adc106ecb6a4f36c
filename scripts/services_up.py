"""Exit 0 when the PostgreSQL and Redis named on the command line answer; say which does not."""
import sys
from urllib.parse import urlparse


def main(pg_url: str, redis_url: str) -> int:
    ok = True
    try:
        import psycopg

        p = urlparse(pg_url)
        psycopg.connect(
            host=p.hostname, port=p.port or 5432, user=p.username, dbname="postgres", connect_timeout=3
        ).close()
    except Exception as exc:  # noqa: BLE001
        print(f"PostgreSQL not reachable at {pg_url}: {exc}")
        ok = False
    try:
        import redis

        redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
    except Exception as exc:  # noqa: BLE001
        print(f"Redis not reachable at {redis_url}: {exc}")
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
