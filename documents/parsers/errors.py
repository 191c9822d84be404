"""Errors that parsers raise for files they cannot read.

Every error is a DocumentParseError whose message is written for the person who uploaded the
file, so the worker can store ``str(error)`` as the task's progress message unchanged.
"""


class DocumentParseError(Exception):
    """The file cannot be parsed; ``str(error)`` tells the uploader what is wrong and what to do."""

    code = "parse_error"


class EncryptedDocumentError(DocumentParseError):
    """The file is protected by a password that the parser does not have."""

    code = "encrypted"


class CorruptDocumentError(DocumentParseError):
    """The file's structure is damaged, so the library that reads the format rejected it."""

    code = "corrupt"


class TruncatedDocumentError(CorruptDocumentError):
    """The file ends before its structure is complete, usually because an upload or copy stopped."""

    code = "truncated"


class EmptyDocumentError(DocumentParseError):
    """The file has zero bytes."""

    code = "empty"


class MislabelledDocumentError(DocumentParseError):
    """The file's content does not match its extension."""

    code = "mislabelled"


class UnsupportedFormatError(DocumentParseError):
    """No parser reads this kind of file, for example a legacy format without a converter."""

    code = "unsupported"


class DocumentTooLargeError(DocumentParseError):
    """The file exceeds a limit that keeps one parse from exhausting memory or time."""

    code = "too_large"
