"""The one path converter for database ids: registered once, on import, as ``<id:pk>``.

Django's ``<int:...>`` matches any run of digits, so ``/api/investigations/100000000000000000000/``
reached the database and failed there with an OverflowError (a 500). Ids above a signed 64-bit
integer (BigAutoField's range) cannot exist, so they do not match: a 404.
"""
from __future__ import annotations

from django.urls import register_converter

MAX_ID = 2**63 - 1


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValueError(f"{value} is not a valid id")
        return number

    def to_url(self, value) -> str:
        return str(int(value))


register_converter(IdConverter, "id")
