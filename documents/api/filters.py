"""Query parameters of the document list and the filters they apply."""

import json
from dataclasses import dataclass, field

from django.db.models import Count

from documents.choices import RunStatus
from documents.models import Document
from ragflow_site.api.validation import lenient_positive_int
from ragflow_site.exceptions import ArgumentError, DataError

DEFAULT_PAGE = 1
DEFAULT_PAGE_SIZE = 30
MAX_PAGE_SIZE = 100
MAX_IDS = 100
ORDERABLE_FIELDS = ("create_time", "update_time", "name")
FILTERABLE_TYPES = frozenset({"pdf", "doc", "visual", "aural", "virtual", "folder", "other"})
EMPTY_METADATA_KEY = "empty_metadata"


@dataclass
class DocumentListQuery:
    page: int = DEFAULT_PAGE
    page_size: int = DEFAULT_PAGE_SIZE
    orderby: str = "create_time"
    desc: bool = True
    keywords: str = ""
    id: str = ""
    name: str = ""
    ids: list[str] = field(default_factory=list)
    suffixes: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    run_statuses: list[str] = field(default_factory=list)
    create_time_from: int = 0
    create_time_to: int = 0
    metadata_condition: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    only_without_metadata: bool = False
    facets: bool = False


def _time_bound(params, key: str) -> int:
    raw = params.get(key)
    if raw in (None, ""):
        return 0
    try:
        return int(raw)
    except ValueError:
        raise ArgumentError(f"{key} must be an integer (epoch milliseconds), got {raw!r}.") from None


def _json_object(params, key: str) -> dict:
    raw = params.get(key)
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise DataError(f"{key} must be valid JSON: {raw}.") from None
    if not isinstance(value, dict):
        raise DataError(f"{key} must be a JSON object: {raw}.")
    return value


def _run_statuses(params) -> list[str]:
    raw = params.getlist("run") + params.getlist("run_status") + params.getlist("run[]")
    by_name = {status.name: status.value for status in RunStatus}
    converted = [by_name.get(value.upper(), value) for value in raw]
    invalid = sorted({value for value in converted if value not in RunStatus.values})
    if invalid:
        raise DataError(f"Invalid filter run status conditions: {', '.join(invalid)}")
    return converted


def parse_list_query(params) -> DocumentListQuery:
    """Read and check the list parameters in RAGFlow's order, with its messages."""
    page_size = lenient_positive_int(params.get("page_size"), DEFAULT_PAGE_SIZE)
    if page_size > MAX_PAGE_SIZE:
        raise ArgumentError(f"page_size must be less than or equal to {MAX_PAGE_SIZE}")
    orderby = params.get("orderby") or "create_time"
    if orderby not in ORDERABLE_FIELDS:
        raise ArgumentError(f"invalid orderby field: {orderby}")

    types = params.getlist("types")
    invalid_types = sorted({value for value in types if value not in FILTERABLE_TYPES})
    if invalid_types:
        plural = "s" if len(invalid_types) > 1 else ""
        raise DataError(f"Invalid filter conditions: {', '.join(invalid_types)} type{plural}")
    run_statuses = _run_statuses(params)

    doc_id = params.get("id") or ""
    ids = params.getlist("ids")
    if doc_id and ids:
        raise DataError(f"Should not provide both 'id':{doc_id} and 'ids'{ids}")
    if len(ids) > MAX_IDS:
        raise ArgumentError(f"ids accepts at most {MAX_IDS} values, got {len(ids)}.")

    metadata = _json_object(params, "metadata")
    only_without_metadata = (params.get("return_empty_metadata") or "").lower() == "true"
    if metadata.pop(EMPTY_METADATA_KEY, None):
        only_without_metadata = True

    return DocumentListQuery(
        page=lenient_positive_int(params.get("page"), DEFAULT_PAGE),
        page_size=page_size,
        orderby=orderby,
        desc=(params.get("desc") or "true").lower() != "false",
        keywords=params.get("keywords") or "",
        id=doc_id,
        name=params.get("name") or "",
        ids=ids,
        suffixes=params.getlist("suffix"),
        types=types,
        run_statuses=run_statuses,
        create_time_from=_time_bound(params, "create_time_from"),
        create_time_to=_time_bound(params, "create_time_to"),
        metadata_condition=_json_object(params, "metadata_condition"),
        metadata=metadata,
        only_without_metadata=only_without_metadata,
        facets=params.get("type") == "filter",
    )


# --- Metadata conditions ------------------------------------------------------------------------


def _as_number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _compare(stored, operator: str, expected) -> bool:
    """Evaluate one metadata condition against one stored value (a scalar)."""
    text, wanted = str(stored).lower(), str(expected).lower()
    if operator == "contains":
        return wanted in text
    if operator == "not contains":
        return wanted not in text
    if operator == "start with":
        return text.startswith(wanted)
    if operator == "end with":
        return text.endswith(wanted)
    if operator in ("=", "is"):
        return text == wanted
    if operator in ("≠", "!=", "is not"):
        return text != wanted
    if operator in ("in", "not in"):
        options = expected if isinstance(expected, list) else str(expected).split(",")
        found = text in {str(option).strip().lower() for option in options}
        return found if operator == "in" else not found
    left, right = _as_number(stored), _as_number(expected)
    if left is None or right is None:
        return False
    comparisons = {">": left > right, "<": left < right, "≥": left >= right, ">=": left >= right,
                   "≤": left <= right, "<=": left <= right}
    if operator not in comparisons:
        raise DataError(f"Unsupported comparison_operator in metadata_condition: {operator!r}.")
    return comparisons[operator]


def _matches_condition(meta: dict, condition: dict) -> bool:
    name, operator = condition.get("name"), condition.get("comparison_operator", "=")
    stored = meta.get(name)
    if operator == "empty":
        return stored in (None, "", [])
    if operator == "not empty":
        return stored not in (None, "", [])
    if stored is None:
        return operator in ("not contains", "≠", "!=", "is not", "not in")
    values = stored if isinstance(stored, list) else [stored]
    return any(_compare(value, operator, condition.get("value")) for value in values)


def matches_metadata_condition(meta: dict, metadata_condition: dict) -> bool:
    """Return whether document metadata meets a ``{"logic": "and"|"or", "conditions": [...]}`` filter."""
    conditions = [condition for condition in metadata_condition.get("conditions") or [] if isinstance(condition, dict)]
    logic = str(metadata_condition.get("logic", "and")).lower()
    results = [_matches_condition(meta, condition) for condition in conditions]
    return any(results) if logic == "or" else all(results)


def _matches_exact(meta: dict, metadata: dict) -> bool:
    """All keys must match; within a key, any of the listed values."""
    for key, wanted in metadata.items():
        options = {str(value) for value in (wanted if isinstance(wanted, list) else [wanted])}
        stored = meta.get(key)
        values = stored if isinstance(stored, list) else [stored]
        if not options & {str(value) for value in values if value is not None}:
            return False
    return True


def _metadata_matches(queryset, query: DocumentListQuery):
    """Narrow ``queryset`` to documents whose metadata meets the query's conditions.

    NOTE: the conditions are evaluated in Python, reading one row per document with metadata.
    A dataset with very many such documents needs this moved into SQL.
    """
    conditions = query.metadata_condition.get("conditions") or []
    if not conditions and not query.metadata:
        return queryset

    matching = []
    rows = queryset.exclude(meta_fields={}).values_list("id", "meta_fields")
    for doc_id, meta in rows:
        meta = meta or {}
        if conditions and not matches_metadata_condition(meta, query.metadata_condition):
            continue
        if query.metadata and not _matches_exact(meta, query.metadata):
            continue
        matching.append(doc_id)
    return queryset.filter(pk__in=matching)


# --- Applying the query ---------------------------------------------------------------------------


def filtered_documents(dataset_id: str, query: DocumentListQuery):
    """Return the documents of a dataset that match the query, in its order, not yet paged."""
    queryset = Document.objects.in_dataset(dataset_id).select_related("created_by")

    if query.id:
        if not queryset.filter(pk=query.id).exists():
            raise DataError(f"you don't own the document {query.id}")
        queryset = queryset.filter(pk=query.id)
    else:
        if query.name:
            if not queryset.filter(name=query.name).exists():
                raise DataError(f"you don't own the document {query.name}")
            queryset = queryset.filter(name=query.name)
        queryset = _apply_field_filters(queryset, query)
        if query.only_without_metadata:
            queryset = queryset.without_metadata()
        else:
            queryset = _metadata_matches(queryset, query)

    order = f"-{query.orderby}" if query.desc else query.orderby
    return queryset.order_by(order, "-id" if query.desc else "id")


def _apply_field_filters(queryset, query: DocumentListQuery):
    if query.ids:
        queryset = queryset.filter(pk__in=query.ids)
    queryset = _apply_facet_filters(queryset, query)
    # RAGFlow applies the time bounds after paging, which makes ``total`` wrong; here they filter first.
    if query.create_time_from:
        queryset = queryset.filter(create_time__gte=query.create_time_from)
    if query.create_time_to:
        queryset = queryset.filter(create_time__lte=query.create_time_to)
    return queryset


def _apply_facet_filters(queryset, query: DocumentListQuery):
    """Apply the filters that the ``type=filter`` facet counts also honour."""
    if query.keywords:
        queryset = queryset.filter(name__icontains=query.keywords)
    if query.suffixes:
        queryset = queryset.filter(suffix__in=[suffix.lower().lstrip(".") for suffix in query.suffixes])
    if query.types:
        queryset = queryset.filter(type__in=query.types)
    if query.run_statuses:
        queryset = queryset.filter(run__in=query.run_statuses)
    return queryset


def document_facets(dataset_id: str, query: DocumentListQuery) -> dict:
    """Return counts per suffix, run status and metadata value (``type=filter``)."""
    queryset = _apply_facet_filters(Document.objects.in_dataset(dataset_id), query)
    suffix_counts = {row["suffix"]: row["total"] for row in queryset.values("suffix").annotate(total=Count("id")).order_by()}
    run_counts = {row["run"]: row["total"] for row in queryset.values("run").annotate(total=Count("id")).order_by()}
    metadata_counts: dict[str, dict[str, int]] = {}
    for meta in queryset.exclude(meta_fields={}).values_list("meta_fields", flat=True):
        for key, value in (meta or {}).items():
            for item in value if isinstance(value, list) else [value]:
                per_key = metadata_counts.setdefault(key, {})
                per_key[str(item)] = per_key.get(str(item), 0) + 1
    return {
        "total": queryset.count(),
        "filter": {"suffix": suffix_counts, "run_status": run_counts, "metadata": metadata_counts},
    }
