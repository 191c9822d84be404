"""EML messages through the standard library: headers, the body and the attachment names."""

import email
import logging
from email import policy
from email.message import EmailMessage


from documents.parsers.context import ParseContext
from documents.parsers.document import Block, BlockKind, ParsedDocument
from documents.parsers.markup import html_blocks, make_soup
from documents.parsers.text import split_paragraphs

logger = logging.getLogger(__name__)

HEADER_NAMES = ("From", "To", "Cc", "Date", "Subject")


def parse_email(context: ParseContext) -> ParsedDocument:
    message = email.message_from_bytes(context.data, policy=policy.default)
    parsed = ParsedDocument(context.filename, "email")

    headers = {}
    for name in HEADER_NAMES:
        value = _header(message, name, context.filename)
        if value:
            headers[name] = value
    parsed.metadata["headers"] = headers
    if headers:
        header_text = "\n".join(f"{name}: {value}" for name, value in headers.items())
        parsed.blocks.append(Block(BlockKind.HEADING, header_text, level=1))

    parsed.blocks.extend(_body_blocks(message, context.filename))

    attachments = []
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename()
        if filename or part.get_content_disposition() == "attachment":
            attachments.append(filename or f"unnamed {part.get_content_type()} attachment")
    parsed.metadata["attachments"] = attachments
    if attachments:
        parsed.blocks.append(Block(BlockKind.TEXT, "Attachments: " + ", ".join(attachments)))

    context.progress(1.0, "Message read.")
    return parsed


def _header(message: EmailMessage, name: str, filename: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError) as error:
        # Malformed address headers can fail to parse under the default policy.
        logger.info("Header %s of %s unreadable: %s", name, filename, error)
        value = message.get_all(name, failobj=[""])[0] if hasattr(message, "get_all") else ""
    return " ".join(str(value).split()) if value else ""


def _body_blocks(message: EmailMessage, filename: str) -> list[Block]:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return []
    try:
        content = body.get_content()
    except (LookupError, ValueError, AssertionError) as error:
        # An unknown charset or a broken transfer encoding; decode the raw bytes as UTF-8.
        logger.info("Body of %s not decodable as declared: %s", filename, error)
        payload = body.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace")
    if not isinstance(content, str):
        return []
    if body.get_content_type() == "text/html":
        return html_blocks(make_soup(content))
    return [Block(BlockKind.TEXT, paragraph) for paragraph in split_paragraphs(content.replace("\r\n", "\n"))]
