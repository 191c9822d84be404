"""JSON and JSON Lines: one RECORD block per top-level array element or per line."""

import json
import logging

from documents.parsers.context import ParseContext
from documents.parsers.document import Block, BlockKind, NoticeCode, ParsedDocument
from documents.parsers.encoding import decode_text
from documents.parsers.errors import CorruptDocumentError

logger = logging.getLogger(__name__)

JSON_LINES_SUFFIXES = frozenset({"jsonl", "ldjson", "ndjson"})


def parse_json(context: ParseContext) -> ParsedDocument:
    text, _, _ = decode_text(context.data, context.filename)
    parsed = ParsedDocument(context.filename, "json")
    if context.suffix in JSON_LINES_SUFFIXES:
        records = _json_lines(text, parsed, context)
    else:
        try:
            records = _top_level_records(json.loads(text), parsed)
        except (json.JSONDecodeError, RecursionError) as error:
            logger.info("%s is not one JSON value (%s); reading it as JSON Lines", context.filename, error)
            records = _json_lines(text, parsed, context)

    for record in records:
        text = record_text(record)
        if text.strip():
            parsed.blocks.append(Block(BlockKind.RECORD, text, record=record))
    context.progress(1.0, "Records read.")
    return parsed


def record_text(record: object) -> str:
    """Render a JSON value as compact JSON, keeping non-ASCII characters readable."""
    if isinstance(record, str):
        return record
    return json.dumps(record, ensure_ascii=False)


def _top_level_records(value: object, parsed: ParsedDocument) -> list[object]:
    """Return an array's elements, or the elements of an object's only array, or the value itself."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (key, inner), = value.items()
        if isinstance(inner, list) and inner and all(isinstance(item, dict) for item in inner):
            parsed.metadata["records_key"] = key
            return inner
    return [value]


def _json_lines(text: str, parsed: ParsedDocument, context: ParseContext) -> list[object]:
    records: list[object] = []
    invalid = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except (json.JSONDecodeError, RecursionError):
            invalid += 1
        if number % 1000 == 0:
            context.check_cancelled()

    if invalid and not records:
        logger.warning("No valid JSON in %s (%d invalid lines)", context.filename, invalid)
        raise CorruptDocumentError(
            f"The file {context.filename!r} is not valid JSON or JSON Lines; "
            "check its syntax and upload it again."
        )
    if invalid:
        parsed.add_notice(NoticeCode.CONTENT_SKIPPED, f"{invalid} lines are not valid JSON and were skipped.")
    return records
