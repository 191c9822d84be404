"""Hybrid retrieval over chunks: PostgreSQL full-text and pgvector search fused into one score.

One request embeds the question once, then reads two candidate pools: the ``top_k`` nearest chunks
by cosine distance (the per-dimension HNSW index) and the full-text matches, of which the ``top_k``
best by BM25 are kept. Two database connections read the pools at once, or one connection reads
both inside a transaction. Every candidate gets both similarities; the term one is its BM25 score
relative to the request's best match. The final score of a chunk is
``(1 - w) * term_similarity + w * vector_similarity``, optionally with a rerank model's score in
place of the vector one. Hits at or above the threshold are ranked, counted and paged.
"""

import importlib
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db import connection, connections, transaction

from documents.fulltext import (
    highlight,
    inverse_document_frequency,
    lexeme_frequencies,
    lexeme_query,
    matched_lexemes_sql,
    query_lexemes,
    TermScorer,
)
from documents.chunk_services import image_id
from documents.models import Chunk, Document
from knowledgebases.models import Dataset, TenantModel
from knowledgebases.question_expansion import expand_question

logger = logging.getLogger(__name__)

# hnsw.ef_search, the HNSW candidate list of a vector scan: the request's top_k, at least this
# and at most settings.RETRIEVAL_HNSW_EF_SEARCH (400 by default). bench/retrieval_latency.py
# indexes a million synthetic 384-dimension vectors with chunk_store.HNSW_BUILD_OPTIONS. There the
# scan of a default request (top_k 1024, which iterative scans continue to) used a list of 200 or
# 400. It found 0.952 to 0.965 of the 10 true nearest chunks for NFCorpus questions over three
# builds, and 0.974 to 0.988 for vectors drawn like the corpus. With 1000 it found about 0.98 and
# 0.99. Runs timed that scan at 17.0 to 21.0 ms with 400, 20.2 to 32.7 ms with 200 and 24.7 to
# 31.3 ms with 1000.
HNSW_MIN_EF_SEARCH = 200
# hnsw.max_scan_tuples: upper bound of index tuples one iterative scan visits, so a filter that
# rejects most rows (a small dataset inside a large table) cannot walk the whole graph.
HNSW_MAX_SCAN_TUPLES = 40000
# Full-text matches read per request before ranking. The limit bounds the cost of a question whose
# rare words still match many rows of a big corpus. Matches past it are not ranked.
# NOTE: the rows kept are the first the bitmap scan returns, not the best. On NFCorpus a limit
# of 100,000 changed full-text nDCG@10 by 0.0003, but a large corpus may lose good matches.
FULLTEXT_SCAN_LIMIT = 1000
# gin_fuzzy_search_limit: a question lexeme in more rows than about this many adds only a random
# sample of them (a few times this many rows) to the full-text pool. Rarer lexemes add all their
# rows, so they take a larger part of FULLTEXT_SCAN_LIMIT. Two lexemes in 190,000 of a million
# chunks took 47 ms to collect in full and 8 ms with a limit of 5000.
GIN_FUZZY_SEARCH_LIMIT = 1000
# Lexemes in more than this share of all chunks (by planner statistics) still count in the score
# but do not select candidates on their own. Rows that share only common words with the question
# would fill the scan limit and rank low anyway.
COMMON_LEXEME_FRACTION = 0.05
# A question's lexemes beyond this many (the rarest kept) add cost and almost no ranking signal.
MAX_QUERY_LEXEMES = 32
# Term similarities are relative to the request's best full-text match, or to this share of the
# highest BM25 score the question can reach when the best match is weaker. BM25 scores of different
# questions are not comparable: relative to the best match, the term part spans the same range as
# cosine similarity, and the floor keeps a lone weak match from counting as a full one.
RELATIVE_TERM_FLOOR = 0.3
# Chunks sent to a rerank model: the best by fused score, at least this many and at least as many
# as the requested page needs. Rerank services bill and slow down per passage.
RERANK_POOL_SIZE = 64
# Columns a result page shows; the vector and tsvector, the widest columns, stay in the database.
PAGE_CHUNK_FIELDS = (
    "id", "content", "content_tokens", "document_id", "document__name", "dataset_id", "important_keywords",
    "questions", "tags", "positions", "doc_type", "position",
)
# Rows of these kinds are not text passages: knowledge-graph records have their own retrieval path.
EXCLUDED_KINDS = ("graph",)


class DifferentEmbeddingModels(Exception):
    """The datasets of one request do not share an embedding model."""


@dataclass
class RetrievalQuery:
    """Validated retrieval parameters; ``document_ids`` None means every document of the datasets."""

    datasets: list[Dataset]
    question: str
    document_ids: list[str] | None = None
    page: int = 1
    page_size: int = 30
    similarity_threshold: float = 0.2
    vector_similarity_weight: float = 0.3
    top_k: int = 1024
    rerank_model: TenantModel | None = None
    highlight: bool = False
    use_kg: bool = False
    # Keyword extraction and the languages to translate the question into, both done by the
    # dataset's chat model before the search (question_expansion).
    keyword: bool = False
    cross_languages: list[str] = field(default_factory=list)


@dataclass
class RetrievalResult:
    total: int
    chunks: list[dict]
    doc_aggs: list[dict]
    # Milliseconds spent extending the question with the chat model (only when asked), embedding it
    # and in the rest of the search, for Server-Timing.
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class _Hit:
    chunk_id: str
    document_id: str
    term: float
    vector: float
    score: float = 0.0


def embedding_model_of(datasets: list[Dataset]) -> TenantModel:
    """Return the one embedding model of the datasets, or raise DifferentEmbeddingModels."""
    names = sorted({dataset.embedding_model for dataset in datasets})
    if len(names) > 1:
        raise DifferentEmbeddingModels(f"Datasets use different embedding models: {names}")
    from knowledgebases.model_registry import resolve_model

    dataset = datasets[0]
    if dataset.tenant_embd_id:
        found = TenantModel.objects.select_related("instance__provider").filter(pk=dataset.tenant_embd_id).first()
        if found is not None:
            return found
    return resolve_model(dataset.tenant_id, dataset.embedding_model, "embedding")


def embed_question(tenant_model: TenantModel, question: str) -> list[float]:
    from knowledgebases.embeddings import embedder_for

    return embedder_for(tenant_model).embed([question])[0]


def retrieve(query: RetrievalQuery) -> RetrievalResult:
    """Search the datasets for the question and return one page of ranked chunks.

    With ``keyword`` or ``cross_languages`` the chat model of the first dataset extends the question
    first. Raises question_expansion.QuestionExpansionError when it cannot.
    """
    timings: dict[str, float] = {}
    if query.keyword or query.cross_languages:
        expanding = time.perf_counter()
        question = expand_question(
            query.datasets[0], query.question, keyword=query.keyword, languages=query.cross_languages
        )
        # The extended text replaces the question in every later step. It is embedded, once, in
        # place of the question, so a chunk that only a translation or keyword matches also gets
        # vector similarity. With the term part alone (times 0.3 at the default weight) such a chunk
        # would often stay under the threshold.
        query = replace(query, question=question)
        timings["expand"] = (time.perf_counter() - expanding) * 1000
    started = time.perf_counter()
    vector = embed_question(embedding_model_of(query.datasets), query.question)
    embedded = time.perf_counter()

    lexemes, weights, selecting = _weighted_lexemes(query.question)
    hits = _score_candidates(query, vector, lexemes, weights, selecting)
    weight = query.vector_similarity_weight
    for hit in hits:
        hit.score = (1 - weight) * hit.term + weight * hit.vector
    hits.sort(key=lambda hit: (-hit.score, hit.chunk_id))
    if query.rerank_model is not None:
        hits = _rerank(query, hits)
    hits = [hit for hit in hits if hit.score >= query.similarity_threshold]

    start = (query.page - 1) * query.page_size
    page = hits[start : start + query.page_size]
    chunks, doc_aggs = _beside(lambda: _chunk_data(page, lexemes if query.highlight else None), lambda: _doc_aggs(hits))
    if query.use_kg and query.page == 1:
        graph_chunk = knowledge_graph_chunk(datasets=query.datasets, question=query.question, question_vector=vector)
        if graph_chunk is not None:
            chunks.insert(0, graph_chunk)
    finished = time.perf_counter()
    return RetrievalResult(
        total=len(hits),
        chunks=chunks,
        doc_aggs=doc_aggs,
        timings=timings | {"embed": (embedded - started) * 1000, "search": (finished - embedded) * 1000},
    )


def _weighted_lexemes(question: str) -> tuple[list[str], list[float], list[str]]:
    """Return the question's lexemes with IDF weights, and the lexemes that select candidates."""
    lexemes = query_lexemes(question)
    fractions = lexeme_frequencies(lexemes)
    ranked = sorted(lexemes, key=lambda lexeme: (fractions[lexeme] or 0.0, lexeme))[:MAX_QUERY_LEXEMES]
    weights = [inverse_document_frequency(fractions[lexeme]) for lexeme in ranked]
    selecting = [lexeme for lexeme in ranked if (fractions[lexeme] or 0.0) <= COMMON_LEXEME_FRACTION]
    return ranked, weights, selecting or ranked


def _filters(query: RetrievalQuery) -> tuple[str, list]:
    sql = "c.dataset_id = ANY(%s) AND c.available AND NOT (c.kind = ANY(%s))"
    params = [[dataset.pk for dataset in query.datasets], list(EXCLUDED_KINDS)]
    if query.document_ids is not None:
        sql += " AND c.document_id = ANY(%s)"
        params.append(query.document_ids)
    return sql, params


def vector_candidates_sql(dimension: int, filters: str, columns: str = "c.id") -> str:
    """SQL of the ``top_k`` nearest chunks; the cast and predicate match the HNSW index of ``dimension``.

    Parameters, in order: those of ``columns``, of ``filters``, the question vector and the limit.
    """
    dimension = int(dimension)
    return (
        f"SELECT {columns} FROM documents_chunk c WHERE c.embedding_dimension = {dimension} AND {filters} "
        f"ORDER BY c.embedding::vector({dimension}) <=> %s::vector({dimension}) LIMIT %s"
    )


def _score_candidates(query: RetrievalQuery, vector: list[float], lexemes, weights, selecting) -> list[_Hit]:
    """Return the candidate pools of both searches with their term and vector similarities.

    Each candidate row is read once (_fetch_pools): the ``top_k`` nearest chunks through the HNSW
    index and up to FULLTEXT_SCAN_LIMIT full-text matches, each with the part of its tsvector that
    the question's lexemes match. Term similarities are computed here from those parts, and the
    full-text pool keeps its ``top_k`` best. They are then divided by the best one (RELATIVE_TERM_FLOOR).
    """
    dimension = len(vector)
    weight = query.vector_similarity_weight
    use_vectors = weight > 0
    use_text = weight < 1 and bool(lexemes)
    if not use_vectors and not use_text:
        return []

    filters, filter_params = _filters(query)
    if lexemes:
        hits_sql, hits_params = matched_lexemes_sql("c.search_vector", lexemes)
    else:
        hits_sql, hits_params = "''::tsvector", []
    distance_sql = f"c.embedding::vector({dimension}) <=> %s::vector({dimension})"
    # The question vector goes into the statement up to three times, so its text form is built once.
    vector_text = "[" + ",".join(map(str, vector)) + "]"
    pools = []
    if use_vectors:
        columns = f"c.id, c.document_id, c.token_count, {hits_sql}::text, 1 - ({distance_sql})"
        pools.append((
            vector_candidates_sql(dimension, filters, columns),
            [*hits_params, vector_text, *filter_params, vector_text, query.top_k],
        ))
    if use_text:
        similarity_sql = f"CASE WHEN c.embedding_dimension = {dimension} THEN 1 - ({distance_sql}) ELSE 0 END"
        pools.append((
            f"SELECT c.id, c.document_id, c.token_count, {hits_sql}::text, {similarity_sql} "
            f"FROM documents_chunk c WHERE {filters} AND c.search_vector @@ %s::tsquery LIMIT %s",
            [*hits_params, vector_text, *filter_params, lexeme_query(selecting), FULLTEXT_SCAN_LIMIT],
        ))

    scorer = TermScorer(dict(zip(lexemes, weights)))
    average_tokens = _average_chunk_tokens(query.datasets)

    def to_hits(rows: list[tuple]) -> list[_Hit]:
        return [
            _Hit(chunk_id, document_id,
                 scorer.score(matched, token_count / average_tokens if average_tokens and token_count else 1.0),
                 vector_similarity)
            for chunk_id, document_id, token_count, matched, vector_similarity in rows
        ]

    pool_hits = _fetch_pools(pools, query.top_k, to_hits)
    hits = {hit.chunk_id: hit for hit in pool_hits[0]} if use_vectors else {}
    if use_text:
        text_hits = pool_hits[-1]
        text_hits.sort(key=lambda hit: (-hit.term, hit.chunk_id))
        for hit in text_hits[: query.top_k]:
            hits.setdefault(hit.chunk_id, hit)
    found = list(hits.values())
    scale = max(max((hit.term for hit in found), default=0.0), RELATIVE_TERM_FLOOR)
    for hit in found:
        hit.term /= scale
    return found


def _fetch_pools(pools: list[tuple[str, list]], top_k: int, to_hits) -> list[list[_Hit]]:
    """Run the candidate pool statements (one or two) and return each one's rows as hits.

    With two pools the full-text one runs beside the vector scan (_beside), and its rows are scored
    on the helper thread while the scan goes on.
    """
    if len(pools) == 2:
        first, second = _beside(lambda: _fetch(pools[:1], top_k, to_hits), lambda: _fetch(pools[1:], top_k, to_hits))
        return first + second
    return _fetch(pools, top_k, to_hits)


def _fetch(pools: list[tuple[str, list]], top_k: int, to_hits) -> list[list[_Hit]]:
    with transaction.atomic(), connection.cursor() as cursor:
        configure_search(cursor, top_k)
        found = []
        for sql, params in pools:
            cursor.execute(sql, params)
            found.append(to_hits(cursor.fetchall()))
        return found


def _beside(call, side_call):
    """Run ``side_call`` on the helper thread's own connection while ``call`` runs, and return both results.

    A small machine has two cores, so the database can work on both calls at once. Both calls run on
    this thread, one after the other, when the helper cannot be used. Inside a transaction a second
    connection would not see the transaction's own writes. While another request of this process
    uses the helper, waiting for it would be slower. RETRIEVAL_PARALLEL_POOLS off disables the helper.
    """
    if not settings.RETRIEVAL_PARALLEL_POOLS or connection.in_atomic_block or not _helper_free.acquire(blocking=False):
        return call(), side_call()
    try:
        pending = _pool_helper().submit(_on_helper, side_call)
    except BaseException:
        _helper_free.release()
        raise
    pending.add_done_callback(lambda _: _helper_free.release())
    result = call()
    return result, pending.result()


def _on_helper(call):
    # Django checks a connection's age and errors when a request starts. This thread serves no
    # requests, so it checks before each use.
    connection.close_if_unusable_or_obsolete()
    return call()


_helper_lock = threading.Lock()
_helper: ThreadPoolExecutor | None = None
# Held from the submission of a call to the helper until the helper has finished it.
_helper_free = threading.Semaphore(1)


def _pool_helper() -> ThreadPoolExecutor:
    global _helper
    with _helper_lock:
        if _helper is None:
            logger.info("Starting the retrieval helper thread, which runs searches on its own connection")
            _helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="retrieval-pool")
        return _helper


def close_pool_helper() -> None:
    """Close the helper thread's database connection and stop the thread. A later search starts another."""
    global _helper
    with _helper_lock:
        helper, _helper = _helper, None
    if helper is not None:
        helper.submit(connections.close_all).result()
        helper.shutdown()
        logger.info("Stopped the retrieval helper thread")


def hnsw_ef_search(top_k: int) -> int:
    """Return the HNSW candidate list length of a scan for ``top_k`` vector candidates."""
    return min(settings.RETRIEVAL_HNSW_EF_SEARCH, max(HNSW_MIN_EF_SEARCH, top_k))


def configure_search(cursor, top_k: int) -> None:
    """Set the current transaction's search settings for a request with ``top_k`` vector candidates.

    JIT is off: compiling costs tens of milliseconds, and the planner's estimate for an HNSW scan of
    a large table exceeds jit_above_cost although the scan stops after top_k rows. Iterative scans
    continue past ef_search when filters reject rows or top_k exceeds it. Sequential scans are off:
    for a question of common words the planner expects a table scan to find enough matches soon,
    but testing each row's tsvector made that 27 ms on a million chunks, where the index took 8.
    """
    cursor.execute(
        "SELECT set_config('jit', 'off', true), set_config('hnsw.ef_search', %s, true),"
        " set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.max_scan_tuples', %s, true),"
        " set_config('gin_fuzzy_search_limit', %s, true), set_config('enable_seqscan', 'off', true)",
        [str(hnsw_ef_search(top_k)), str(HNSW_MAX_SCAN_TUPLES), str(GIN_FUZZY_SEARCH_LIMIT)],
    )


def _average_chunk_tokens(datasets: list[Dataset]) -> float | None:
    """Return the mean token count of the datasets' chunks from their counters, or None when unknown."""
    chunks = sum(dataset.chunk_num for dataset in datasets)
    tokens = sum(dataset.token_num for dataset in datasets)
    return tokens / chunks if chunks > 0 and tokens > 0 else None


def _rerank(query: RetrievalQuery, hits: list[_Hit]) -> list[_Hit]:
    """Replace the vector part of the best hits' scores by the rerank model's; drop the rest."""
    from knowledgebases.rerank import reranker_for

    pool = hits[: max(RERANK_POOL_SIZE, query.page * query.page_size)]
    contents = dict(Chunk.objects.filter(pk__in=[hit.chunk_id for hit in pool]).values_list("id", "content"))
    scores = reranker_for(query.rerank_model).scores(query.question, [contents.get(hit.chunk_id, "") for hit in pool])
    weight = query.vector_similarity_weight
    for hit, score in zip(pool, scores):
        hit.score = (1 - weight) * hit.term + weight * score
    pool.sort(key=lambda hit: (-hit.score, hit.chunk_id))
    return pool


def _chunk_data(page: list[_Hit], lexemes: list[str] | None) -> list[dict]:
    if not page:
        return []
    # Plain rows rather than model instances: building 30 deferred-field instances with their
    # documents took about half a millisecond of a request.
    rows = {
        row[0]: row
        for row in Chunk.objects.filter(pk__in=[hit.chunk_id for hit in page]).values_list(*PAGE_CHUNK_FIELDS)
    }
    ordered = [(hit, rows[hit.chunk_id]) for hit in page if hit.chunk_id in rows]
    marked = highlight([row[1] for _, row in ordered], lexemes) if lexemes is not None else None
    result = []
    for index, (hit, row) in enumerate(ordered):
        (chunk_id, content, content_tokens, document_id, document_name, dataset_id, important_keywords,
         questions, tags, positions, doc_type, position) = row
        item = {
            "id": chunk_id,
            "content": content,
            "content_ltks": content_tokens,
            "document_id": document_id,
            "document_keyword": document_name,
            "dataset_id": dataset_id,
            "important_keywords": important_keywords,
            "questions": questions,
            "tag_kwd": tags,
            "image_id": image_id(dataset_id, chunk_id, doc_type),
            "similarity": hit.score,
            "vector_similarity": hit.vector,
            "term_similarity": hit.term,
            "positions": positions,
            "doc_type_kwd": doc_type,
            "mom_id": "",
            "row_id": position,
        }
        if marked is not None:
            item["highlight"] = marked[index]
        result.append(item)
    return result


def _doc_aggs(hits: list[_Hit]) -> list[dict]:
    counts: dict[str, int] = {}
    for hit in hits:
        counts[hit.document_id] = counts.get(hit.document_id, 0) + 1
    with connection.cursor() as cursor:
        # A big corpus puts a thousand documents here. Ids contain no commas, so they go as one
        # string, because binding a list quotes each element, which took about a millisecond.
        cursor.execute(
            f"SELECT id, name FROM {Document._meta.db_table} WHERE id = ANY(string_to_array(%s, ','))",
            [",".join(counts)],
        )
        names = dict(cursor.fetchall())
    ordered = sorted(counts.items(), key=lambda item: (-item[1], names.get(item[0], ""), item[0]))
    return [{"doc_name": names.get(doc_id, ""), "doc_id": doc_id, "count": count} for doc_id, count in ordered]


# Module and function that the knowledge-graph work provides; looked up at call time so retrieval
# works before it exists.
GRAPH_RETRIEVAL_MODULE = "knowledgebases.graph_retrieval"
GRAPH_RETRIEVAL_FUNCTION = "knowledge_graph_chunk"


def knowledge_graph_chunk(*, datasets: list[Dataset], question: str, question_vector: list[float]) -> dict | None:
    """Return a chunk with the datasets' knowledge-graph context for the question, or None.

    The graph module's function of the same name builds it and returns None when no dataset has a
    graph; without that module this returns None.
    """
    try:
        module = importlib.import_module(GRAPH_RETRIEVAL_MODULE)
    except ModuleNotFoundError as error:
        if error.name != GRAPH_RETRIEVAL_MODULE:
            raise
        return None
    build = getattr(module, GRAPH_RETRIEVAL_FUNCTION, None)
    if build is None:
        return None
    return build(datasets=datasets, question=question, question_vector=question_vector)
