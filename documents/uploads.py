"""Multipart parsing for uploads that keeps what Django's parser would hide.

Django shortens uploaded file names past 255 characters and silently drops parts whose file name
is empty, but the API must reject both with their own messages.
"""

import re

from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.utils.http import parse_header_parameters
from rest_framework.parsers import MultiPartParser

# A part header block longer than this is not inspected; real ones are a few hundred bytes.
MAX_PART_HEADER_BYTES = 16 * 1024
_EMPTY_FILENAME = re.compile(rb'(?i)content-disposition:[^\r\n]*;\s*filename\s*=\s*""')


class _KeepRawName:
    """Record the full client file name as ``raw_name`` on the uploaded file."""

    def file_complete(self, file_size):
        uploaded = super().file_complete(file_size)
        if uploaded is not None:
            uploaded.raw_name = self.file_name
        return uploaded


class RawNameMemoryFileUploadHandler(_KeepRawName, MemoryFileUploadHandler):
    pass


class RawNameTemporaryFileUploadHandler(_KeepRawName, TemporaryFileUploadHandler):
    pass


def raw_name_upload_handlers(request) -> list:
    return [RawNameMemoryFileUploadHandler(request), RawNameTemporaryFileUploadHandler(request)]


class _EmptyFileNameCounter:
    """A read-through stream that counts multipart parts declared with ``filename=""``."""

    def __init__(self, stream, boundary: bytes):
        self.stream = stream
        self.delimiter = b"--" + boundary + b"\r\n"
        self.count = 0
        self._pending = b""
        self._in_headers = False

    def read(self, *args):
        data = self.stream.read(*args)
        if data:
            self._scan(data)
        return data

    def _scan(self, data: bytes) -> None:
        buffer = self._pending + data
        while True:
            if self._in_headers:
                end = buffer.find(b"\r\n\r\n")
                if end < 0:
                    # Keep collecting the header block unless it is implausibly long.
                    self._pending = buffer if len(buffer) <= MAX_PART_HEADER_BYTES else b""
                    self._in_headers = len(buffer) <= MAX_PART_HEADER_BYTES
                    return
                if _EMPTY_FILENAME.search(buffer[:end + 2]):
                    self.count += 1
                buffer = buffer[end + 4:]
                self._in_headers = False
            start = buffer.find(self.delimiter)
            if start < 0:
                # Keep a tail long enough to hold a delimiter split across two reads.
                self._pending = buffer[-(len(self.delimiter) - 1):]
                return
            buffer = buffer[start + len(self.delimiter):]
            self._in_headers = True


class UploadMultiPartParser(MultiPartParser):
    """DRF's multipart parser that also reports on the request how many file names were empty."""

    def parse(self, stream, media_type=None, parser_context=None):
        _, params = parse_header_parameters(media_type or "")
        boundary = params.get("boundary", "").encode("ascii", errors="ignore")
        request = (parser_context or {}).get("request")
        if not boundary or request is None:
            return super().parse(stream, media_type, parser_context)
        counter = _EmptyFileNameCounter(stream, boundary)
        result = super().parse(counter, media_type, parser_context)
        request.empty_file_name_parts = counter.count
        return result
