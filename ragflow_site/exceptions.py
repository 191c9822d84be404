"""Domain errors and RAGFlow's return codes; the API's exception handler renders them."""

from enum import IntEnum


class RetCode(IntEnum):
    """Return codes of RAGFlow's JSON envelope (``code`` key)."""

    SUCCESS = 0
    EXCEPTION_ERROR = 100
    ARGUMENT_ERROR = 101
    DATA_ERROR = 102
    OPERATING_ERROR = 103
    CONNECTION_ERROR = 105
    RUNNING = 106
    PERMISSION_ERROR = 108
    AUTHENTICATION_ERROR = 109
    BAD_REQUEST = 400
    UNAUTHORIZED = 401
    FORBIDDEN = 403
    NOT_FOUND = 404
    CONFLICT = 409
    SERVER_ERROR = 500


class RagflowError(Exception):
    """A failure that the API reports as HTTP 200 with a non-zero ``code``.

    ``include_data`` selects the envelope flavour: False gives RAGFlow's two-key error body
    ``{"code", "message"}``, True adds ``"data": null`` as RAGFlow's ``get_json_result`` does.
    """

    code = RetCode.DATA_ERROR
    include_data = False

    def __init__(self, message: str, *, code: int | None = None, include_data: bool | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if include_data is not None:
            self.include_data = include_data


class ArgumentError(RagflowError):
    code = RetCode.ARGUMENT_ERROR


class DataError(RagflowError):
    code = RetCode.DATA_ERROR


class OperatingError(RagflowError):
    code = RetCode.OPERATING_ERROR
    include_data = True


class AuthorizationError(RagflowError):
    code = RetCode.AUTHENTICATION_ERROR
    include_data = True


class ForbiddenError(RagflowError):
    code = RetCode.FORBIDDEN
    include_data = True
