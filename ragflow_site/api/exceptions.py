"""The one DRF exception handler: every API error leaves in RAGFlow's envelope."""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFilesSent
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

from ragflow_site.api.responses import UNAUTHORIZED_BODY, error_body
from ragflow_site.exceptions import RagflowError, RetCode

logger = logging.getLogger(__name__)

MALFORMED_JSON_MESSAGE = "Malformed JSON syntax: Missing commas/brackets or invalid encoding"
# repr() of Werkzeug's MethodNotAllowed, which RAGFlow reports with code 100 and HTTP 200.
METHOD_NOT_ALLOWED_MESSAGE = "<MethodNotAllowed '405: Method Not Allowed'>"


def unsupported_content_type_message(content_type: str | None) -> str:
    return f"Unsupported content type: Expected application/json, got {content_type or None}"


def request_too_large_message(limit_bytes: int, setting_name: str) -> str:
    return (
        f"Request body is larger than the limit of {limit_bytes} bytes; send a smaller request "
        f"or raise {setting_name}."
    )


def envelope_exception_handler(exc, context):
    """Render ``exc`` as RAGFlow does: HTTP 200 with a code for most errors, 401 for credentials."""
    request = context.get("request")

    if isinstance(exc, RagflowError):
        return Response(error_body(exc.code, exc.message, include_data=exc.include_data))

    if isinstance(exc, (drf_exceptions.NotAuthenticated, drf_exceptions.AuthenticationFailed)):
        return Response(UNAUTHORIZED_BODY, status=401)

    if isinstance(exc, drf_exceptions.MethodNotAllowed):
        return Response(error_body(RetCode.EXCEPTION_ERROR, METHOD_NOT_ALLOWED_MESSAGE, include_data=True))

    if isinstance(exc, drf_exceptions.UnsupportedMediaType):
        content_type = request.META.get("CONTENT_TYPE") if request is not None else None
        return Response(error_body(RetCode.ARGUMENT_ERROR, unsupported_content_type_message(content_type)))

    if isinstance(exc, drf_exceptions.ParseError):
        return Response(error_body(RetCode.ARGUMENT_ERROR, MALFORMED_JSON_MESSAGE))

    if isinstance(exc, (RequestDataTooBig, TooManyFilesSent)):
        return Response(error_body(RetCode.ARGUMENT_ERROR, str(exc)), status=413)

    if isinstance(exc, drf_exceptions.Throttled):
        wait = int(exc.wait) if exc.wait is not None else 60
        message = f"Too many requests; retry in {wait} seconds."
        return Response(error_body(429, message, include_data=True), status=429, headers={"Retry-After": str(wait)})

    if isinstance(exc, (drf_exceptions.PermissionDenied, PermissionDenied)):
        return Response(error_body(RetCode.AUTHENTICATION_ERROR, "No authorization.", include_data=True))

    if isinstance(exc, (drf_exceptions.NotFound, Http404)):
        return Response(error_body(RetCode.DATA_ERROR, str(exc) or "Not found."))

    if isinstance(exc, drf_exceptions.ValidationError):
        return Response(error_body(RetCode.ARGUMENT_ERROR, _flatten_validation_detail(exc.detail)))

    if isinstance(exc, drf_exceptions.APIException):
        return Response(error_body(RetCode.EXCEPTION_ERROR, str(exc.detail), include_data=True))

    view = context.get("view")
    logger.exception(
        "Unhandled error in %s %s (view %s)",
        getattr(request, "method", "?"),
        getattr(request, "path", "?"),
        type(view).__name__ if view is not None else None,
    )
    # RAGFlow reports an unexpected failure as HTTP 200, code 100 and repr() of the exception.
    return Response(error_body(RetCode.EXCEPTION_ERROR, repr(exc), include_data=True))


def _flatten_validation_detail(detail) -> str:
    if isinstance(detail, dict):
        return "\n".join(f"{field}: {_flatten_validation_detail(value)}" for field, value in detail.items())
    if isinstance(detail, list):
        return "; ".join(_flatten_validation_detail(item) for item in detail)
    return str(detail)
