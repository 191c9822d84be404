"""Splitting documents into parse tasks."""

from tasks.models import WHOLE_DOCUMENT_END
from tasks.planning import plan_task_ranges


def test_pdf_split_by_default_window():
    ranges = plan_task_ranges(suffix="pdf", unit_count=30, parser_config={}, chunk_method="naive")

    assert ranges == [(0, 12), (12, 24), (24, 30)]


def test_pdf_window_from_parser_config():
    ranges = plan_task_ranges(suffix="pdf", unit_count=5, parser_config={"task_page_size": 2}, chunk_method="naive")

    assert ranges == [(0, 2), (2, 4), (4, 5)]


def test_pdf_page_ranges_respected():
    config = {"pages": [[1, 3], [10, 100]]}

    ranges = plan_task_ranges(suffix="pdf", unit_count=14, parser_config=config, chunk_method="naive")

    assert ranges == [(0, 3), (9, 14)]


def test_pdf_paper_uses_larger_window():
    ranges = plan_task_ranges(suffix="pdf", unit_count=30, parser_config={}, chunk_method="paper")

    assert ranges == [(0, 22), (22, 30)]


def test_pdf_one_method_single_task():
    assert plan_task_ranges(suffix="pdf", unit_count=40, parser_config={}, chunk_method="one") == [(0, 40)]


def test_spreadsheet_split_by_rows():
    ranges = plan_task_ranges(suffix="xlsx", unit_count=7000, parser_config={}, chunk_method="table")

    assert ranges == [(0, 3000), (3000, 6000), (6000, 7000)]


def test_unknown_count_single_task():
    for suffix in ("pdf", "csv", "txt"):
        assert plan_task_ranges(suffix=suffix, unit_count=None, parser_config={}, chunk_method="naive") == [
            (0, WHOLE_DOCUMENT_END)
        ]


def test_text_file_single_task():
    assert plan_task_ranges(suffix="txt", unit_count=500, parser_config={}, chunk_method="naive") == [
        (0, WHOLE_DOCUMENT_END)
    ]
