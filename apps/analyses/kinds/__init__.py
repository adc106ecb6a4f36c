"""Analysis kinds: one module per kind, each a ``Kind`` subclass (``base.py``) listed once in
``apps.analyses.registry``. ``network.py`` and ``spread.py`` hold what several kinds share."""
