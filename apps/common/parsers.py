"""The API's JSON parser: a body nested past Python's recursion limit is a 400, not a 500."""
from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            # 100,000 nested "[" exhaust the decoder's recursion (json's C scanner raises RecursionError).
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
