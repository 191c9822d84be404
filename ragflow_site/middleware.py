"""Middleware that must act before a view reads the request."""

import logging

from django.conf import settings
from django.http import JsonResponse

from ragflow_site.api.exceptions import request_too_large_message
from ragflow_site.exceptions import RetCode

logger = logging.getLogger(__name__)


class RequestSizeLimitMiddleware:
    """Reject a request whose declared body exceeds RAGFLOW_MAX_UPLOAD_BYTES before it is read.

    Django bounds non-file bodies itself (DATA_UPLOAD_MAX_MEMORY_SIZE) but streams file uploads to
    disk with no limit, so without this check one upload could fill the disk.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        declared = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(declared)
        except ValueError:
            length = 0
        limit = settings.RAGFLOW_MAX_UPLOAD_BYTES
        if length > limit:
            logger.warning("Rejected %s %s: body of %s bytes exceeds %s", request.method, request.path, length, limit)
            body = {
                "code": int(RetCode.ARGUMENT_ERROR),
                "message": request_too_large_message(limit, "RAGFLOW_MAX_UPLOAD_BYTES"),
            }
            return JsonResponse(body, status=413)
        return self.get_response(request)
