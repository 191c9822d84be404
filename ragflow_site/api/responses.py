"""Builders of RAGFlow's JSON envelope flavours (see the "JSON envelope" part of the API spec)."""

from rest_framework.response import Response

from ragflow_site.exceptions import RetCode


def json_result(data=None, message: str = "success", code: int = RetCode.SUCCESS, **kwargs) -> Response:
    """``{"code", "message", "data"}`` with all three keys always present (RAGFlow's get_json_result)."""
    return Response({"code": int(code), "message": message, "data": data}, **kwargs)


def result(data=None, **extra) -> Response:
    """``{"code": 0, "data": ...}`` with no ``message`` key and no ``data`` when it is None.

    ``extra`` adds top-level keys such as ``total_datasets``.
    """
    body = {"code": int(RetCode.SUCCESS)}
    if data is not None:
        body["data"] = data
    body.update(extra)
    return Response(body)


def error_body(code: int, message: str, *, include_data: bool = False) -> dict:
    body = {"code": int(code), "message": message or "Error"}
    if include_data:
        body["data"] = None
    return body


UNAUTHORIZED_BODY = {
    "code": int(RetCode.UNAUTHORIZED),
    # repr() of Quart-Auth's Unauthorized exception: clients and RAGFlow's tests match it exactly.
    "message": "<Unauthorized '401: Unauthorized'>",
    "data": None,
}
