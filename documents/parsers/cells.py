"""Render spreadsheet cell values the way a spreadsheet program displays them."""

import datetime
import re

_DECIMALS = re.compile(r"0\.(0+)")


def display_value(value: object, number_format: str = "General") -> str:
    """Return the text a spreadsheet shows for ``value`` under ``number_format``.

    Covers the formats that change meaning when ignored: dates and times, percentages, fixed
    decimals and thousands separators. Other formats (currency symbols in custom sections,
    fractions, scientific notation) fall back to the plain number.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return str(value)
    if isinstance(value, (int, float)):
        return _format_number(value, number_format or "General")
    return str(value).strip()


def _format_number(number: float, number_format: str) -> str:
    section = number_format.split(";")[0]
    decimals_match = _DECIMALS.search(section)
    decimals = len(decimals_match.group(1)) if decimals_match else None

    if "%" in section:
        return f"{number * 100:.{decimals or 0}f}%"
    if decimals is not None or "#,##0" in section or section.strip() == "0":
        grouping = "," if "#,##0" in section else ""
        return f"{number:{grouping}.{decimals or 0}f}"
    if isinstance(number, float) and number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return str(number)
