"""JSON error pages for API paths; other paths keep Django's pages."""

import logging

from django.http import JsonResponse
from django.views import defaults

from ragflow_site.exceptions import RetCode

logger = logging.getLogger(__name__)

API_PATH_PREFIXES = ("/api/", "/v1/")


def _is_api_path(request) -> bool:
    return request.path.startswith(API_PATH_PREFIXES)


def not_found(request, exception=None):
    if not _is_api_path(request):
        return defaults.page_not_found(request, exception)
    body = {"code": int(RetCode.NOT_FOUND), "message": f"Not Found: {request.path}", "data": None, "error": "Not Found"}
    return JsonResponse(body, status=404)


def server_error(request):
    if not _is_api_path(request):
        return defaults.server_error(request)
    body = {"code": int(RetCode.EXCEPTION_ERROR), "message": "Internal server error; see the server log.", "data": None}
    return JsonResponse(body, status=500)
