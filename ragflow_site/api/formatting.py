"""Value formats of RAGFlow's JSON output."""

from datetime import datetime

from django.utils.http import http_date


def rfc1123(value: datetime | None) -> str | None:
    """Format a datetime as RAGFlow does, for example ``Mon, 28 Apr 2025 18:40:41 GMT``."""
    if value is None:
        return None
    return http_date(value.timestamp())
