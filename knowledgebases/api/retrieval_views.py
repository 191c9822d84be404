"""``POST /retrieval``: hybrid search over the caller's datasets, with RAGFlow's lenient body rules.

RAGFlow converts several fields with ``int()`` and ``float()`` and reports a failed conversion as
code 100 with the exception's repr. The same conversions here give clients the same messages.
"""

import json
import logging

from rest_framework.views import APIView

from accounts.authentication import tenant_id_of
from documents.models import Document
from documents.querysets import visible_dataset
from knowledgebases import question_expansion, retrieval
from knowledgebases.embeddings import EmbeddingError
from knowledgebases.rerank import RerankError
from ragflow_site.api.responses import result
from ragflow_site.api.validation import exception_error, lenient_positive_int, read_lenient_json
from ragflow_site.exceptions import DataError, RagflowError, RetCode

logger = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 30
# RAGFlow's upper bound of page_size on every paged route.
MAX_PAGE_SIZE = 100
# Used when a request omits the weight; the same default as new datasets get (see Dataset).
DEFAULT_VECTOR_SIMILARITY_WEIGHT = 0.7
EMPTY_RESULT = {"total": 0, "chunks": [], "doc_aggs": {}}
# Languages one request may list in ``cross_languages``. Each adds a translation to the chat
# model's response and words to the search, which keeps only the rarest retrieval.MAX_QUERY_LEXEMES
# (32) lexemes of the question, so more languages crowd each other out.
MAX_CROSS_LANGUAGES = 5
# Maximum length of a language name in characters. The name goes into the chat prompt, and real
# names such as "Chinese (Traditional)" are far shorter.
MAX_LANGUAGE_NAME_LENGTH = 64


def _convert(convert, value):
    try:
        return convert(value)
    except (TypeError, ValueError) as error:
        raise exception_error(error) from None


def _flag(payload: dict, key: str) -> bool:
    value = payload.get(key)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise DataError(f"`{key}` should be a boolean")


def _truthy(value) -> bool:
    """Return whether a bool-ish flag is on. Any truthy value counts, as in RAGFlow, except the strings "false" and "0"."""
    if isinstance(value, str):
        return value.strip().lower() not in ("", "false", "0")
    return bool(value)


def _as_json(value) -> str:
    """Return a request value as JSON text, cut to 100 characters, for error messages."""
    return json.dumps(value, ensure_ascii=False, default=str)[:100]


def _cross_languages(payload: dict) -> list[str]:
    languages = payload.get("cross_languages")
    if languages is None:
        return []
    example = 'Send a list of language names such as ["English", "Chinese"].'
    if not isinstance(languages, list):
        raise DataError(f"`cross_languages` should be a list, got {_as_json(languages)}. {example}")
    for item in languages:
        if not isinstance(item, str) or not item.strip():
            raise DataError(f"`cross_languages` contains {_as_json(item)}, which is not a language name. {example}")
        if len(item.strip()) > MAX_LANGUAGE_NAME_LENGTH:
            raise DataError(
                f"`cross_languages` contains {_as_json(item)}, which is longer than {MAX_LANGUAGE_NAME_LENGTH} "
                f"characters. {example}"
            )
    names = list(dict.fromkeys(item.strip() for item in languages))
    if len(names) > MAX_CROSS_LANGUAGES:
        raise DataError(
            f"`cross_languages` lists {len(names)} languages, but the maximum is {MAX_CROSS_LANGUAGES}. "
            f"Send at most {MAX_CROSS_LANGUAGES}."
        )
    return names


def _datasets(payload: dict, request) -> list:
    ids = payload.get("dataset_ids")
    if not ids:
        raise DataError("`dataset_ids` is required.")
    if not isinstance(ids, list):
        raise DataError("`dataset_ids` should be a list")
    tenant_id = tenant_id_of(request)
    datasets = []
    for dataset_id in dict.fromkeys(str(item) for item in ids):
        datasets.append(visible_dataset(dataset_id, request.user, tenant_id, message=f"You don't own the dataset {dataset_id}."))
    return datasets


def _document_ids(payload: dict, datasets: list) -> list[str] | None:
    ids = payload.get("document_ids")
    if ids is None or ids == []:
        return None
    if not isinstance(ids, list):
        raise DataError("`documents` should be a list")
    ids = list(dict.fromkeys(str(item) for item in ids))
    found = set(Document.objects.filter(dataset__in=datasets, pk__in=ids).values_list("id", flat=True))
    for document_id in ids:
        if document_id not in found:
            raise DataError(f"The datasets don't own the document {document_id}")
    return ids


def _metadata_documents(payload: dict, datasets: list) -> list[str] | None:
    """Return the ids of documents whose metadata meets ``metadata_condition``, or None without one."""
    from documents.api.filters import matches_metadata_condition

    condition = payload.get("metadata_condition")
    if not condition:
        return None
    if not isinstance(condition, dict):
        raise DataError("metadata_condition must be an object.")
    if not condition.get("conditions"):
        return None
    rows = Document.objects.filter(dataset__in=datasets).exclude(meta_fields={}).values_list("id", "meta_fields")
    return [document_id for document_id, meta in rows if matches_metadata_condition(meta or {}, condition)]


def _rerank_model(payload: dict, request):
    from knowledgebases.model_registry import resolve_model

    reference = payload.get("rerank_id")
    if not reference:
        return None
    if not isinstance(reference, str):
        raise DataError("`rerank_id` should be a string")
    return resolve_model(tenant_id_of(request), reference, "rerank")


def parse_retrieval_request(payload, request) -> retrieval.RetrievalQuery | None:
    """Validate a retrieval body in RAGFlow's order; None means an empty result (blank question)."""
    if not isinstance(payload, dict):
        # Code 100, as other routes give such a body (read_lenient_json), with a message that names
        # the expected object in place of Python's AttributeError text.
        raise RagflowError(
            f"The request body must be a JSON object, got {_as_json(payload)}. "
            'Send an object such as {"question": "...", "dataset_ids": ["..."]}.',
            code=RetCode.EXCEPTION_ERROR,
            include_data=True,
        )
    datasets = _datasets(payload, request)
    if "question" not in payload:
        raise DataError("`question` is required.")
    question = payload["question"]
    if not isinstance(question, str):
        raise exception_error(AttributeError(f"'{type(question).__name__}' object has no attribute 'strip'"))

    page = lenient_positive_int(payload.get("page"), 1)
    page_size = lenient_positive_int(payload.get("page_size"), DEFAULT_PAGE_SIZE)
    if page_size > MAX_PAGE_SIZE:
        raise exception_error(ValueError(f"page_size must be less than or equal to {MAX_PAGE_SIZE}"))
    document_ids = _document_ids(payload, datasets)
    threshold = _convert(float, payload.get("similarity_threshold", 0.2))
    weight = _convert(float, payload.get("vector_similarity_weight", DEFAULT_VECTOR_SIMILARITY_WEIGHT))
    top_k = _convert(int, payload.get("top_k", 1024))
    if top_k <= 0:
        raise DataError("`top_k` must be greater than 0")
    highlight = _flag(payload, "highlight")
    use_kg = bool(payload.get("use_kg"))
    rerank_model = _rerank_model(payload, request)
    keyword = _truthy(payload.get("keyword"))
    cross_languages = _cross_languages(payload)
    # NOTE: `toc_enhance` is accepted and not applied. It re-selects chunks through a table of
    # contents extracted from each document at parse time, which this server's parsers do not store.

    if document_ids is None:
        document_ids = _metadata_documents(payload, datasets)
        if document_ids == []:
            return None
    if not question.strip():
        return None
    return retrieval.RetrievalQuery(
        datasets=datasets,
        question=question,
        document_ids=document_ids,
        page=page,
        page_size=page_size,
        similarity_threshold=threshold,
        vector_similarity_weight=weight,
        top_k=top_k,
        rerank_model=rerank_model,
        highlight=highlight,
        use_kg=use_kg,
        keyword=keyword,
        cross_languages=cross_languages,
    )


class RetrievalView(APIView):
    """``POST /retrieval``: ranked chunks of the given datasets (and documents) for a question."""

    def post(self, request):
        payload = read_lenient_json(request)
        query = parse_retrieval_request(payload, request)
        if query is None:
            return result(EMPTY_RESULT)
        try:
            found = retrieval.retrieve(query)
        except retrieval.DifferentEmbeddingModels as error:
            raise DataError(str(error)) from None
        except question_expansion.ChatModelUnavailable as error:
            raise DataError(str(error)) from None
        except question_expansion.ExpansionFailed as error:
            raise RagflowError(str(error), code=RetCode.EXCEPTION_ERROR, include_data=True) from None
        except (EmbeddingError, RerankError) as error:
            logger.error("Retrieval over datasets %s failed: %s", [d.pk for d in query.datasets], error)
            raise RagflowError(str(error), code=RetCode.EXCEPTION_ERROR, include_data=True) from None
        response = result({"total": found.total, "chunks": found.chunks, "doc_aggs": found.doc_aggs})
        response["Server-Timing"] = ", ".join(f"{name};dur={value:.2f}" for name, value in found.timings.items())
        return response
