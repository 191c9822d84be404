"""Enumeration of the project's URL patterns, for tests that must cover every route."""

from django.urls import URLPattern, URLResolver, get_resolver


def walk_patterns(resolver=None, prefix: str = ""):
    """Yield ``(pattern text, URLPattern)`` for every route, with included prefixes joined."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        pattern = prefix + str(entry.pattern).lstrip("^").rstrip("$")
        if isinstance(entry, URLResolver):
            yield from walk_patterns(entry, pattern)
        elif isinstance(entry, URLPattern):
            yield pattern, entry
