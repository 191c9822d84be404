"""The multipart stream counter that finds parts with an empty file name."""

import io

import pytest

from documents.uploads import _EmptyFileNameCounter

BOUNDARY = b"b0undary"


def multipart(*filenames: str) -> bytes:
    parts = [
        (
            f'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: text/plain\r\n\r\n"
            f"content of {name or 'nothing'}\r\n"
        ).encode()
        for name in filenames
    ]
    return b"".join(parts) + b"--b0undary--\r\n"


def count_empty_names(body: bytes, read_size: int) -> int:
    counter = _EmptyFileNameCounter(io.BytesIO(body), BOUNDARY)
    while counter.read(read_size):
        pass
    return counter.count


@pytest.mark.parametrize("read_size", [1, 3, 7, 64, 65536])
def test_counter_across_read_sizes(read_size):
    body = multipart("a.txt", "", "b.txt", "")

    assert count_empty_names(body, read_size) == 2


def test_counter_ignores_named_parts():
    assert count_empty_names(multipart("a.txt", "b.txt"), 5) == 0


def test_counter_ignores_text_inside_content():
    body = (
        b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="capture.txt"\r\n\r\n'
        b'Content-Disposition: form-data; name="file"; filename=""\r\n\r\n'
        b"--b0undary--\r\n"
    )

    assert count_empty_names(body, 4) == 0
