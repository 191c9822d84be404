"""Errors of document operations, with RAGFlow's codes."""

from ragflow_site.exceptions import ArgumentError, DataError, RagflowError, RetCode


class DocumentNotFound(DataError):
    """The document does not exist, or not in a dataset the caller may use."""


class DocumentBusy(DataError):
    """The document is being parsed, so the requested change must wait until it stops."""


class InvalidUpload(ArgumentError):
    """The upload request itself is malformed: no file, no name, or a name that is too long."""


class UploadFailed(RagflowError):
    """Every file of an upload was rejected; the message has one line per file."""

    code = RetCode.SERVER_ERROR


class FileRejected(Exception):
    """One file of an upload was rejected; other files of the same request still count."""
