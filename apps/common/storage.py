"""Static files in production: whitenoise's compressed, hashed storage that degrades instead of failing.

Before ``manage.py collectstatic`` there is no manifest and no file to hash, and the stock storage
raises in ``{% static %}``: every page, /login/ included, was a 500. Here such a name stays
unhashed (the page renders without its assets) and the system check ``common.W001`` says to run
collectstatic.
"""
from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    def stored_name(self, name):
        try:
            return super().stored_name(name)
        except ValueError:
            return name
