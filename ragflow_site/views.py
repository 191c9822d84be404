"""JSON error pages for API paths; other paths keep Django's pages."""

import logging

from django.http import JsonResponse
from django.views import defaults

from ragflow_site.api.exceptions import METHOD_NOT_ALLOWED_MESSAGE
from ragflow_site.exceptions import RetCode

logger = logging.getLogger(__name__)

API_PATH_PREFIXES = ("/api/", "/v1/")


def _is_api_path(request) -> bool:
    return request.path.startswith(API_PATH_PREFIXES)


def not_found(request, exception=None):
    if not _is_api_path(request):
        return defaults.page_not_found(request, exception)
    if "//" in request.path:
        # RAGFlow's router merges repeated slashes, so a path with an empty id segment lands on a
        # route that lacks the method: HTTP 200 with code 100, as its catch-all handler answers.
        body = {"code": int(RetCode.EXCEPTION_ERROR), "message": METHOD_NOT_ALLOWED_MESSAGE, "data": None}
        return JsonResponse(body)
    body = {"code": int(RetCode.NOT_FOUND), "message": f"Not Found: {request.path}", "data": None, "error": "Not Found"}
    return JsonResponse(body, status=404)


def server_error(request):
    if not _is_api_path(request):
        return defaults.server_error(request)
    body = {"code": int(RetCode.EXCEPTION_ERROR), "message": "Internal server error; see the server log.", "data": None}
    return JsonResponse(body, status=500)
