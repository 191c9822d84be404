"""Request-body readers that reproduce RAGFlow's validation order and messages.

Strict bodies: content type, then JSON syntax, then an object at the top level, then a pydantic
model whose errors are rendered one per line as ``Field: <loc> - Message: <msg> - Value: <input>``.
Lenient bodies: RAGFlow's ``get_request_json``, which turns an empty body into ``{}``.
"""

import json
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from ragflow_site.api.exceptions import MALFORMED_JSON_MESSAGE, unsupported_content_type_message
from ragflow_site.exceptions import ArgumentError, RagflowError, RetCode

Model = TypeVar("Model", bound=BaseModel)

# RAGFlow truncates the offending input to this many characters in validation messages.
ERROR_VALUE_MAX_CHARS = 128


def _media_type(request) -> str:
    return (request.META.get("CONTENT_TYPE") or "").split(";", 1)[0].strip().lower()


def format_validation_error(error: ValidationError) -> str:
    """Render pydantic errors as RAGFlow does, for example ``Field: <name> - Message: <...> - Value: <0>``."""
    lines = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"])
        value = str(item.get("input"))
        if len(value) > ERROR_VALUE_MAX_CHARS:
            value = value[: ERROR_VALUE_MAX_CHARS - 3] + "..."
        lines.append(f"Field: <{location}> - Message: <{item['msg']}> - Value: <{value}>")
    return "\n".join(lines)


def read_json_object(request) -> dict:
    """Read a body that must be a JSON object sent as application/json, or raise ArgumentError."""
    if _media_type(request) != "application/json":
        raise ArgumentError(unsupported_content_type_message(request.META.get("CONTENT_TYPE")))
    try:
        payload = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError):
        raise ArgumentError(MALFORMED_JSON_MESSAGE) from None
    if not isinstance(payload, dict):
        raise ArgumentError(f"Invalid request payload: expected object, got {type(payload).__name__}")
    return payload


def parse_body(request, model: type[Model]) -> Model:
    """Validate a strict JSON body against ``model`` with RAGFlow's checks and messages."""
    payload = read_json_object(request)
    try:
        return model.model_validate(payload, strict=True)
    except ValidationError as error:
        raise ArgumentError(format_validation_error(error)) from None


def parse_query(request, model: type[Model]) -> Model:
    """Validate query parameters leniently (``page="2"`` is an int) against ``model``."""
    params = {key: request.GET.get(key) for key in request.GET}
    try:
        return model.model_validate(params)
    except ValidationError as error:
        raise ArgumentError(format_validation_error(error)) from None


def read_lenient_json(request) -> dict:
    """Read a body as RAGFlow's ``get_request_json`` does: empty means ``{}``, forms become dicts.

    Malformed JSON is an ArgumentError. A JSON value that is not an object is returned as it is,
    so the caller fails on it the way RAGFlow does (an AttributeError rendered with code 100).
    """
    if _media_type(request) != "application/json":
        # Django's own form parsing: a DRF request would reject an unknown content type instead.
        form = getattr(request, "_request", request).POST
        return {key: form.get(key) for key in form}
    raw = request.body
    if not raw or not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ArgumentError(MALFORMED_JSON_MESSAGE) from None


def require_fields(payload: dict, *names: str) -> None:
    """Raise RAGFlow's ``required argument are missing`` error for absent keys."""
    missing = [name for name in names if name not in payload]
    if missing:
        raise ArgumentError(
            "required argument are missing: " + "".join(f"{name}; " for name in missing),
            include_data=True,
        )


def lenient_positive_int(raw, default: int) -> int:
    """Read a paging value as RAGFlow's lists do: a missing, invalid or non-positive value means ``default``."""
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return default
    return value if value > 0 else default


def exception_error(error: Exception) -> RagflowError:
    """Report ``error`` as RAGFlow's catch-all handler does: code 100 with the exception's repr."""
    return RagflowError(repr(error), code=RetCode.EXCEPTION_ERROR, include_data=True)
