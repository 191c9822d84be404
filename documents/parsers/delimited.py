"""CSV and TSV files: delimiter sniffing, RFC 4180 quoting, the first row as the header."""

import csv
import io
import logging

from documents.parsers.context import ParseContext
from documents.parsers.document import NoticeCode, ParsedDocument
from documents.parsers.encoding import decode_text
from documents.parsers.tabular import add_table_rows, limited

logger = logging.getLogger(__name__)

_CANDIDATE_DELIMITERS = ",;\t|"
# Characters given to csv.Sniffer; it is quadratic in the sample, and 64 KB covers many rows.
_SNIFF_SAMPLE_CHARS = 65536
# The csv module's default field limit is 128 KB; a quoted field holding a long text can pass it,
# and 10 MB still bounds memory for one field.
_FIELD_SIZE_LIMIT = 10 * 1024 * 1024


def parse_delimited(context: ParseContext) -> ParsedDocument:
    text, encoding, guessed = decode_text(context.data, context.filename)
    parsed = ParsedDocument(context.filename, "csv", from_page=context.from_page, to_page=context.to_page)
    parsed.metadata["encoding"] = encoding
    if guessed:
        parsed.add_notice(NoticeCode.ENCODING_GUESSED, f"The text encoding was guessed as {encoding}.")

    delimiter = sniff_delimiter(text, default="\t" if context.suffix == "tsv" else ",")
    parsed.metadata["delimiter"] = delimiter
    rows = read_rows(text, delimiter)
    # Rows past max_rows are counted but not stored. Counting stops at ten times max_rows so
    # that an endless file still ends, and for such files unit_count is a lower bound.
    parsed.unit_count = add_table_rows(parsed, context, limited(rows, context.max_rows * 10), None, 0)
    context.progress(1.0, "Rows read.")
    return parsed


def read_rows(text: str, delimiter: str):
    """Yield the rows of delimited text with RFC 4180 quoting (quoted fields may span lines)."""
    csv.field_size_limit(_FIELD_SIZE_LIMIT)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', doublequote=True)
    try:
        yield from reader
    except csv.Error as error:
        # An unterminated quote at the end of the file; the rows before it are kept.
        logger.warning("CSV reading stopped early: %s", error)


def sniff_delimiter(text: str, default: str = ",") -> str:
    """Return the delimiter of delimited text, trying csv.Sniffer first and counting second."""
    sample = text[:_SNIFF_SAMPLE_CHARS]
    cut = sample.rfind("\n")
    if cut > 0 and len(text) > len(sample):
        sample = sample[:cut]
    try:
        return csv.Sniffer().sniff(sample, delimiters=_CANDIDATE_DELIMITERS).delimiter
    except csv.Error:
        pass

    lines = [line for line in sample.split("\n")[:20] if line.strip()]
    best, best_score = default, 0
    for candidate in _CANDIDATE_DELIMITERS:
        counts = [line.count(candidate) for line in lines]
        if not counts or min(counts) == 0:
            continue
        # Prefer a delimiter that appears the same number of times on every line.
        score = min(counts) * (2 if len(set(counts)) == 1 else 1)
        if score > best_score:
            best, best_score = candidate, score
    return best
