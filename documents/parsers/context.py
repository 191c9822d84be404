"""Per-call state that every format parser receives: the bytes, the range, progress and cancel."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[float, str], None]
CancelCheck = Callable[[], None]

# Upper bound for rows read from one spreadsheet or CSV call. A sheet can claim a million rows
# (XLSX dimension 1,048,576) and every row becomes a chunk, so an unbounded read can hold
# gigabytes. By estimate, 200,000 rows of typical width stay under a few hundred MB in memory.
DEFAULT_MAX_ROWS = 200_000
# Upper bound for columns kept per row. Sheets with formatting applied to whole rows report
# 16,384 columns, nearly all empty; real tables rarely pass a few hundred columns.
DEFAULT_MAX_COLUMNS = 1_000
# Seconds Tesseract may spend on one page or image before the page is given up as unreadable.
# Tesseract 5.3 took 3-10 s per 300 dpi page on a 2-core machine; 120 s leaves room for dense
# pages on slower machines.
DEFAULT_OCR_TIMEOUT = 120


@dataclass
class ParseContext:
    """Inputs of one parse: ``from_page`` is 0-based and ``to_page`` exclusive (None: to the end)."""

    data: bytes
    filename: str
    suffix: str
    from_page: int = 0
    to_page: int | None = None
    progress_callback: ProgressCallback | None = None
    cancel_check: CancelCheck | None = None
    ocr: bool = True
    ocr_languages: str = "eng+chi_sim"
    ocr_timeout: int = DEFAULT_OCR_TIMEOUT
    max_rows: int = DEFAULT_MAX_ROWS
    max_columns: int = DEFAULT_MAX_COLUMNS
    extra: dict = field(default_factory=dict)

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress in 0..1 and check for cancellation first, so a cancel stops the parse."""
        self.check_cancelled()
        if self.progress_callback is not None:
            self.progress_callback(max(0.0, min(1.0, fraction)), message)

    def check_cancelled(self) -> None:
        """Call the caller's cancel check; it raises its own exception to stop the parse."""
        if self.cancel_check is not None:
            self.cancel_check()

    def page_window(self, total: int) -> range:
        """Return the 0-based page or row indexes of ``total`` that this call covers."""
        start = min(max(0, self.from_page), total)
        stop = total if self.to_page is None else max(start, min(total, self.to_page))
        return range(start, stop)
