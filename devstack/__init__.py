"""The portal as an analyst runs it, for end-to-end tests and benchmarks: a migrated database of its own,
daphne serving ASGI and a ``manage.py qcluster`` worker, as real processes (``devstack.stack``).

Outside ``tests/`` so that ``bench/`` can use it without importing the test suite; it imports no app code.
"""
