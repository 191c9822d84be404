"""Document names: the byte limit and the "(n)" numbering that keeps names unique in a dataset."""

import re

from documents.models import NAME_MAX_BYTES, Document

# A stem that already ends in "(n)" continues counting from n: "a(1).txt" is followed by "a(2).txt".
_NUMBERED_STEM = re.compile(r"^(?P<base>.*)\((?P<number>\d+)\)$", re.DOTALL)


def name_too_long(name: str) -> bool:
    return len(name.encode("utf-8")) > NAME_MAX_BYTES


def _fit_to_limit(base: str, tail: str) -> str:
    """Join ``base`` and ``tail``, dropping characters from the end of ``base`` to stay within the limit."""
    budget = NAME_MAX_BYTES - len(tail.encode("utf-8"))
    encoded = base.encode("utf-8")
    if len(encoded) > budget:
        base = encoded[: max(budget, 0)].decode("utf-8", errors="ignore")
    return base + tail


def unique_document_name(dataset_id: str, name: str) -> str:
    """Return ``name``, or the first free ``stem(n).ext`` when the dataset already has that name."""
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    match = _NUMBERED_STEM.match(stem)
    if match:
        base, number = match.group("base"), int(match.group("number")) + 1
    else:
        base, number = stem, 1

    taken = set(Document.objects.in_dataset(dataset_id).filter(name__startswith=base[:32]).values_list("name", flat=True))
    if name not in taken:
        return name
    # Each number gives a different candidate, so the loop ends within len(taken) + 1 steps.
    while True:
        candidate = _fit_to_limit(base, f"({number}){dot}{suffix}")
        if candidate not in taken:
            return candidate
        number += 1
