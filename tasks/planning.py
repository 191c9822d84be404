"""Splitting of a document into parse tasks: page ranges of PDFs, row ranges of spreadsheets."""

from tasks.models import WHOLE_DOCUMENT_END

# PDF pages per task. Twelve pages parse and embed in about a minute here, so a long PDF spreads
# across workers while one task stays short enough to retry cheaply.
DEFAULT_TASK_PAGE_SIZE = 12
# Papers are split less finely so that a section rarely straddles two tasks.
PAPER_TASK_PAGE_SIZE = 22
# Spreadsheet data rows per task; a 3,000-row range is parsed and embedded in a few minutes.
ROWS_PER_TASK = 3000
SPREADSHEET_SUFFIXES = frozenset({"xlsx", "xls", "csv"})


def _pdf_ranges(page_count: int, parser_config: dict, chunk_method: str) -> list[tuple[int, int]]:
    if chunk_method == "one":
        window = page_count
    elif chunk_method == "paper":
        window = PAPER_TASK_PAGE_SIZE
    else:
        window = int(parser_config.get("task_page_size") or DEFAULT_TASK_PAGE_SIZE)
    window = max(1, window)

    ranges = []
    for page_range in parser_config.get("pages") or [[1, WHOLE_DOCUMENT_END]]:
        first, last = int(page_range[0]), int(page_range[1])
        start, end = max(0, first - 1), min(last, page_count)
        for page in range(start, end, window):
            ranges.append((page, min(page + window, end)))
    return ranges


def plan_task_ranges(*, suffix: str, unit_count: int | None, parser_config: dict, chunk_method: str) -> list[tuple[int, int]]:
    """Return the (from_page, to_page) ranges of a document's tasks, 0-based and end-exclusive."""
    if not unit_count:
        return [(0, WHOLE_DOCUMENT_END)]
    if suffix == "pdf":
        return _pdf_ranges(unit_count, parser_config or {}, chunk_method) or [(0, WHOLE_DOCUMENT_END)]
    if suffix in SPREADSHEET_SUFFIXES and chunk_method != "one":
        return [(row, min(row + ROWS_PER_TASK, unit_count)) for row in range(0, unit_count, ROWS_PER_TASK)]
    return [(0, WHOLE_DOCUMENT_END)]
