"""Retrieval latency benchmark: synthetic chunks at scale, timed over HTTP and in SQL, plus HNSW recall.

Usage (from the repository root; one corpus size per run):

    .venv/bin/python bench/retrieval_latency.py --chunks 100000
    .venv/bin/python bench/retrieval_latency.py --chunks 1000000

It starts a fresh stack (bench/stack.py) on the database ``ragflow_bench_retrieval_latency``,
bulk-loads synthetic chunks into one dataset and reports, for warm requests with the default
retrieval settings:

* p50/p95/p99 of ``POST /api/v1/retrieval`` over HTTP without the question embedding (the server
  reports that in its ``Server-Timing`` header), and the embedding time on its own, after
  pg_prewarm has read the table and its indexes into PostgreSQL's buffers;
* the same percentiles of the candidate SQL statement run in this process;
* recall@10 of the HNSW index against an exact scan of the same rows.

Chunk text is sampled from the word frequencies and document lengths of the NFCorpus corpus.
Vectors are synthetic: each is a mix of two real all-MiniLM-L6-v2 embeddings of corpus titles plus
Gaussian noise, normalised, so they cluster the way text embeddings do and the questions, embedded by
the real model, land in the same space. Rows are loaded with COPY and the same column values the
chunk services write (``content_tokens`` equals ``content`` for Latin-script text), and the indexes
are built afterwards with the migrations' definitions. The database is dropped at the end unless
``--keep`` is given; ``--reuse`` times a kept database again without loading it.
"""

import argparse
import json
import os
import re
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import ROOT, Stack, machine_description, setup_django, write_section  # noqa: E402

NFCORPUS = ROOT.parent / "shared" / "data" / "devset" / "nfcorpus"
# Rows per COPY batch: large enough to amortise round trips, small enough to keep memory flat.
COPY_BATCH = 20000
# Documents the chunks are spread over; retrieval groups hits by document in doc_aggs.
DOCUMENT_COUNT = 1000
# Chunk lengths in words are drawn from NFCorpus abstracts and capped here, about the 512-token
# chunk size of the naive chunker.
MAX_CHUNK_WORDS = 400
MIN_CHUNK_WORDS = 20
# Real embeddings that the synthetic vectors mix; more centroids give a less clustered space.
CENTROID_COUNT = 512
# Standard deviation of the per-dimension noise: a noise vector of norm about 0.5 against unit
# centroids, so neighbours are close but no two vectors coincide.
NOISE_SIGMA = 0.5 / np.sqrt(384)
WARMUP_REQUESTS = 30
# Clients sending requests at the same time in the throughput row, one per web process.
CONCURRENT_CLIENTS = 2
DEFAULT_QUERIES = 300
# hnsw.ef_search values of the recall sweep; pgvector's default is 40.
RECALL_EF_SEARCH = (40, 100, 200, 400)
# hnsw.ef_search values tried for the scan of a default request (1024 candidates), to choose
# RETRIEVAL_HNSW_EF_SEARCH. The value the server uses is always added to them.
REQUEST_EF_SEARCH = (200, 400, 1000)
# Queries for the exact-scan recall check; an exact scan of a million rows takes about a second.
RECALL_QUERIES = 100
# PostgreSQL memory for the index builds: the HNSW graph of a million 384-float vectors needs
# about 2 GB to be built in memory, which is far faster than spilling.
BUILD_MAINTENANCE_WORK_MEM = "4GB"
# Two cores: the leader plus one parallel worker.
BUILD_PARALLEL_WORKERS = 1
WORD = re.compile(r"[A-Za-z][A-Za-z0-9-]*")


def corpus_statistics() -> tuple[list[str], np.ndarray, list[int], list[str], list[str]]:
    """Return the corpus vocabulary with probabilities, document lengths, titles and query texts."""
    counts: Counter = Counter()
    lengths, titles = [], []
    with open(NFCORPUS / "corpus.jsonl") as handle:
        for line in handle:
            record = json.loads(line)
            words = WORD.findall(record.get("text", ""))
            counts.update(words)
            lengths.append(max(MIN_CHUNK_WORDS, min(MAX_CHUNK_WORDS, len(words))))
            titles.append(record.get("title") or " ".join(words[:12]))
    with open(NFCORPUS / "queries.jsonl") as handle:
        questions = [json.loads(line)["text"] for line in handle]
    vocabulary = list(counts)
    frequencies = np.array([counts[word] for word in vocabulary], dtype=np.float64)
    return vocabulary, frequencies / frequencies.sum(), lengths, titles, questions


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pick(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]

    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99), "mean": statistics.fmean(ordered)}


def generate_rows(count: int, dataset_id: str, document_ids: list[str], centroids: np.ndarray, stats, seed: int):
    """Yield batches of (id, dataset, document, position, content, vector) rows."""
    vocabulary, probabilities, lengths, _, _ = stats
    words = np.array(vocabulary, dtype=object)
    rng = np.random.default_rng(seed)
    made = 0
    while made < count:
        size = min(COPY_BATCH, count - made)
        chunk_lengths = rng.choice(lengths, size=size)
        picks = rng.choice(len(words), size=int(chunk_lengths.sum()), p=probabilities)
        first = rng.integers(0, len(centroids), size=size)
        second = rng.integers(0, len(centroids), size=size)
        vectors = centroids[first] + 0.5 * centroids[second] + rng.normal(0, NOISE_SIGMA, (size, centroids.shape[1]))
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        batch, offset = [], 0
        for index in range(size):
            text = " ".join(words[picks[offset : offset + chunk_lengths[index]]])
            offset += chunk_lengths[index]
            number = made + index
            batch.append((f"{seed:02x}{number:014x}", dataset_id, document_ids[number % len(document_ids)], number, text,
                          vectors[index].astype(np.float32)))
        made += size
        yield batch


def load_chunks(stack: Stack, count: int, dataset_id: str, document_ids: list[str], centroids, stats) -> float:
    """COPY ``count`` chunks into an unindexed table, then add the search vectors and indexes."""
    from pgvector.psycopg import register_vector

    from documents.chunk_store import create_vector_index_sql, drop_vector_index_sql

    started = time.perf_counter()
    with psycopg.connect(stack.database_url, autocommit=True) as connection:
        register_vector(connection)
        connection.execute(drop_vector_index_sql(384))
        connection.execute("DROP INDEX IF EXISTS documents_chunk_search_gin")
        columns = "id, dataset_id, document_id, position, content, content_tokens, embedding, embedding_dimension"
        with connection.cursor() as cursor:
            for batch in generate_rows(count, dataset_id, document_ids, centroids, stats, seed=1):
                with cursor.copy(
                    f"COPY documents_chunk ({columns}, token_count, page_numbers, positions, important_keywords, "
                    "questions, tags, tag_features, doc_type, kind, available, create_time, create_date) FROM STDIN"
                ) as copy:
                    now_ms = int(time.time() * 1000)
                    for row_id, dataset, document, position, text, vector in batch:
                        copy.write_row((row_id, dataset, document, position, text, text, vector, 384,
                                        len(text.split()), "{}", "[]", "{}", "{}", "{}", "{}", "text", "", True,
                                        now_ms, "now"))
        print(f"copied {count} rows in {time.perf_counter() - started:.0f} s", flush=True)
    _fill_search_vectors(stack)
    print(f"search vectors done at {time.perf_counter() - started:.0f} s", flush=True)
    with psycopg.connect(stack.database_url, autocommit=True) as connection:
        # The UPDATE left a dead copy of every row. The server writes each chunk once, and the
        # rewrite gives the table the size it has there.
        connection.execute("VACUUM FULL documents_chunk")
    print(f"table rewritten at {time.perf_counter() - started:.0f} s", flush=True)
    with psycopg.connect(stack.database_url, autocommit=True) as connection:
        connection.execute(f"SET maintenance_work_mem = '{BUILD_MAINTENANCE_WORK_MEM}'")
        connection.execute(f"SET max_parallel_maintenance_workers = {BUILD_PARALLEL_WORKERS}")
        connection.execute("CREATE INDEX documents_chunk_search_gin ON documents_chunk USING gin (search_vector)")
        print(f"GIN index done at {time.perf_counter() - started:.0f} s", flush=True)
        connection.execute(create_vector_index_sql(384))
        print(f"HNSW index done at {time.perf_counter() - started:.0f} s", flush=True)
        connection.execute("VACUUM ANALYZE documents_chunk")
        connection.execute(
            "UPDATE documents_document d SET chunk_num = s.n, token_num = s.t FROM "
            "(SELECT document_id, count(*) n, sum(token_count) t FROM documents_chunk GROUP BY document_id) s "
            "WHERE s.document_id = d.id"
        )
        connection.execute(
            "UPDATE knowledgebases_dataset SET chunk_num = %s, token_num = "
            "(SELECT sum(token_count) FROM documents_chunk WHERE dataset_id = %s) WHERE id = %s",
            [count, dataset_id, dataset_id],
        )
    return time.perf_counter() - started


def _fill_search_vectors(stack: Stack) -> None:
    """Compute ``search_vector`` as refresh_search_vectors does, in two halves on two connections."""
    from documents.fulltext import SEARCH_CONFIG

    def run(remainder: int):
        with psycopg.connect(stack.database_url, autocommit=True) as connection:
            connection.execute(
                "UPDATE documents_chunk SET search_vector = to_tsvector(%s::regconfig, content_tokens) "
                "WHERE position %% 2 = %s",
                [SEARCH_CONFIG, remainder],
            )

    threads = [threading.Thread(target=run, args=(remainder,)) for remainder in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def prewarm(stack: Stack) -> None:
    """Read the chunk table, then its search indexes, into PostgreSQL's buffers before the timings.

    Otherwise the first few hundred requests after a load or a restart read index pages from disk
    or the OS cache, and the timings would measure that instead of a server in use. The indexes go
    last, so that they stay in the buffers if the table does not fit beside them.
    """
    relations = ("documents_chunk", "documents_chunk_search_gin", "documents_chunk_embedding_384_hnsw")
    started = time.perf_counter()
    with psycopg.connect(stack.database_url, autocommit=True) as connection:
        try:
            connection.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        except psycopg.Error as error:
            print(f"pg_prewarm is not available ({error}); timing without prewarming", flush=True)
            return
        for relation in relations:
            connection.execute("SELECT pg_prewarm(%s)", [relation])
    print(f"prewarmed {', '.join(relations)} in {time.perf_counter() - started:.0f} s", flush=True)


def time_http(stack: Stack, dataset_id: str, questions: list[str], body_extra: dict) -> tuple[list[float], list[float]]:
    """Return per-request milliseconds without embedding, and the embedding milliseconds."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {stack.api_key}"
    url = f"{stack.base_url}/api/v1/retrieval"
    searches, embeds = [], []
    for number, question in enumerate(questions):
        body = {"dataset_ids": [dataset_id], "question": question} | body_extra
        started = time.perf_counter()
        response = session.post(url, json=body, timeout=120)
        elapsed = (time.perf_counter() - started) * 1000
        payload = response.json()
        if payload.get("code") != 0:
            raise RuntimeError(f"retrieval failed for {question!r}: {payload}")
        timing = dict(part.split(";dur=") for part in response.headers["Server-Timing"].split(", "))
        if number >= WARMUP_REQUESTS:
            embeds.append(float(timing["embed"]))
            searches.append(elapsed - float(timing["embed"]))
    return searches, embeds


def time_http_clients(stack: Stack, dataset_id: str, questions: list[str], clients: int) -> tuple[list[float], float]:
    """Return per-request milliseconds without embedding and requests per second, for ``clients`` at once.

    Every client thread sends all of ``questions``, so the server gets ``clients`` requests at a time.
    """
    timings: list[list[float]] = [[] for _ in range(clients)]

    def send_all(out: list[float]) -> None:
        out.extend(time_http(stack, dataset_id, questions, {})[0])

    threads = [threading.Thread(target=send_all, args=(out,)) for out in timings]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return [value for out in timings for value in out], clients * len(questions) / elapsed


def time_sql(dataset, questions: list[str], vectors: list[list[float]], top_k: int) -> list[float]:
    from knowledgebases import retrieval

    timings = []
    for number, (question, vector) in enumerate(zip(questions, vectors)):
        query = retrieval.RetrievalQuery(datasets=[dataset], question=question, top_k=top_k)
        lexemes, weights, selecting = retrieval._weighted_lexemes(question)
        started = time.perf_counter()
        retrieval._score_candidates(query, vector, lexemes, weights, selecting)
        if number >= WARMUP_REQUESTS:
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def exact_neighbours(dataset, vectors: list[list[float]]) -> list[set[str]]:
    """Return the true 10 nearest chunks of each vector, from a scan that skips the index."""
    from django.db import connection, transaction

    sql, params = _vector_sql(dataset)
    found = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SET LOCAL jit = off")
        for vector in vectors:
            cursor.execute(sql, [vector, *params, vector, 10])
            found.append({row[0] for row in cursor.fetchall()})
    return found


def hnsw_recall(dataset, vectors, exact: list[set[str]], ef_search: int, candidates: int = 10) -> tuple[float, float, str]:
    """Return mean recall@10 of the HNSW scan against ``exact``, its mean ms, and its plan.

    The scan fetches ``candidates`` rows (10, or the request's top_k) and its 10 nearest count.
    """
    from django.db import connection, transaction

    from knowledgebases import retrieval

    sql, params = _vector_sql(dataset)
    recalls, timings = [], []
    with transaction.atomic(), connection.cursor() as cursor:
        retrieval.configure_search(cursor, candidates)
        cursor.execute("SELECT set_config('hnsw.ef_search', %s, true)", [str(int(ef_search))])
        cursor.execute("EXPLAIN " + sql, [vectors[0], *params, vectors[0], candidates])
        # The question vector in the plan is 384 numbers long; the report shows its place only.
        plan = "\n".join(re.sub(r"'\[[^\]]*\]'", "'[...]'", row[0]) for row in cursor.fetchall())
        for vector, truth in zip(vectors, exact):
            started = time.perf_counter()
            cursor.execute(sql, [vector, *params, vector, candidates])
            nearest = sorted(cursor.fetchall(), key=lambda row: row[1])[:10]
            timings.append((time.perf_counter() - started) * 1000)
            recalls.append(len({row[0] for row in nearest} & truth) / max(1, len(truth)))
    return statistics.fmean(recalls), statistics.fmean(timings), plan


def _vector_sql(dataset) -> tuple[str, list]:
    """Return the server's vector candidate SQL selecting id and distance, and its filter parameters."""
    from knowledgebases import retrieval

    columns = "c.id, c.embedding::vector(384) <=> %s::vector(384)"
    filters = "c.dataset_id = ANY(%s) AND c.available AND NOT (c.kind = ANY(%s))"
    sql = retrieval.vector_candidates_sql(384, filters, columns)
    return sql, [[dataset.pk], list(retrieval.EXCLUDED_KINDS)]


def report(args, load_seconds: float | None, rows: list[tuple[str, dict]], embeds: dict, recalls: list, plan: str) -> str:
    if load_seconds is None:
        load = "Loaded by an earlier run with `--keep`, reused with `--reuse`."
    else:
        load = f"Bulk load and index build: {load_seconds:.0f} s."
    lines = [
        f"## Retrieval latency, {args.chunks:,} chunks",
        "",
        f"Machine: {machine_description()}. Command: `.venv/bin/python bench/retrieval_latency.py --chunks {args.chunks}"
        f"{' --queries ' + str(args.queries) if args.queries != DEFAULT_QUERIES else ''}`"
        f" ({time.strftime('%Y-%m-%d')}). Database `ragflow_bench_retrieval_latency`.",
        "",
        f"Synthetic corpus: {args.chunks:,} chunks of NFCorpus-like text (20-400 words, mean about 180) in one dataset"
        f" over {DOCUMENT_COUNT} documents, 384-dimension vectors mixed from real all-MiniLM-L6-v2 embeddings."
        f" {load} Each timing row: {args.queries} NFCorpus questions"
        f" after {WARMUP_REQUESTS} warm-up requests, sent one at a time, except in the row with"
        f" {CONCURRENT_CLIENTS} clients, where each client sends them all and the server served"
        f" {args.throughput:.1f} requests per second, question embedding included. Load average (1 min) when the"
        f" timings ended: {args.load_average:.1f}.",
        "",
        "| measurement | p50 ms | p95 ms | p99 ms | mean ms |",
        "|---|---|---|---|---|",
    ]
    for name, values in rows:
        lines.append(f"| {name} | {values['p50']:.1f} | {values['p95']:.1f} | {values['p99']:.1f} | {values['mean']:.1f} |")
    lines += [
        f"| question embedding in the server (excluded above) | {embeds['p50']:.1f} | {embeds['p95']:.1f} |"
        f" {embeds['p99']:.1f} | {embeds['mean']:.1f} |",
        "",
        f"HNSW recall@10 against an exact scan of the same rows, {RECALL_QUERIES} vectors each: NFCorpus"
        f" questions embedded by the model, and held-out synthetic vectors drawn like the corpus. Rows with"
        f" 10 candidates scan for the 10 nearest only. Rows with 1024 candidates are the scan a default"
        f" request makes (top_k 1024, iterative scan) and count its 10 nearest; such a request uses ef_search"
        f" {args.ef_search}.",
        "",
        "| ef_search | candidates | recall@10, questions | recall@10, held-out vectors | scan mean ms |",
        "|---|---|---|---|---|",
        *[f"| {ef} | {limit} | {q:.3f} | {h:.3f} | {ms:.1f} |" for ef, limit, q, h, ms in recalls],
        "",
        "Plan of the vector candidate scan:",
        "",
        "```",
        plan,
        "```",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=100000, help="number of synthetic chunks to load")
    parser.add_argument("--queries", type=int, default=DEFAULT_QUERIES, help="timed requests per measurement (after warm-up)")
    parser.add_argument("--keep", action="store_true", help="keep the database and stop only the servers")
    parser.add_argument("--reuse", action="store_true", help="time the database an earlier --keep run loaded")
    args = parser.parse_args()

    stats = corpus_statistics()
    questions = stats[4]
    timed = [questions[number % len(questions)] for number in range(args.queries + WARMUP_REQUESTS)]
    stack = Stack("retrieval_latency", workers=0, redis_db=13, web_workers=2).start(reuse_database=args.reuse)
    try:
        setup_django(stack)
        from documents.models import Chunk
        from knowledgebases import retrieval
        from knowledgebases.embeddings import LOCAL_MODELS, LocalEmbedder
        from knowledgebases.models import Dataset

        args.ef_search = retrieval.hnsw_ef_search(1024)
        embedder = LocalEmbedder(LOCAL_MODELS["all-MiniLM-L6-v2"])
        centroids = np.array(embedder.embed(stats[3][:CENTROID_COUNT]), dtype=np.float64)
        if args.reuse:
            dataset = Dataset.objects.get(name="latency")
            found = Chunk.objects.filter(dataset=dataset).count()
            if found != args.chunks:
                raise RuntimeError(f"--reuse found {found} chunks, not {args.chunks}; load them again without --reuse")
            load_seconds = None
        else:
            dataset = create_corpus(stack, args.chunks, centroids, stats)
            load_seconds = dataset.load_seconds

        vectors = embedder.embed(timed)
        prewarm(stack)
        rows = []
        http_default, embeds = time_http(stack, dataset.pk, timed, {})
        from knowledgebases.api.retrieval_views import DEFAULT_VECTOR_SIMILARITY_WEIGHT

        label = f"HTTP `/api/v1/retrieval`, defaults (top_k 1024, weight {DEFAULT_VECTOR_SIMILARITY_WEIGHT}, page_size 30)"
        rows.append((label, percentiles(http_default)))
        http_small, _ = time_http(stack, dataset.pk, timed, {"top_k": 100})
        rows.append(("HTTP `/api/v1/retrieval`, top_k 100", percentiles(http_small)))
        http_pair, args.throughput = time_http_clients(stack, dataset.pk, timed, CONCURRENT_CLIENTS)
        rows.append((f"HTTP `/api/v1/retrieval`, defaults, {CONCURRENT_CLIENTS} clients at once", percentiles(http_pair)))
        rows.append(("candidate SQL in process, top_k 1024", percentiles(time_sql(dataset, timed, vectors, 1024))))
        rows.append(("candidate SQL in process, top_k 100", percentiles(time_sql(dataset, timed, vectors, 100))))
        args.load_average = os.getloadavg()[0]
        held_out = [row[5].tolist() for row in next(generate_rows(RECALL_QUERIES, "", ["-"], centroids, stats, seed=2))]
        question_truth = exact_neighbours(dataset, vectors[:RECALL_QUERIES])
        held_out_truth = exact_neighbours(dataset, held_out)
        recalls = []
        # The scan of a default request, with the list the server uses and with other lengths.
        scans = [(ef_search, 10) for ef_search in RECALL_EF_SEARCH]
        scans += [(ef_search, 1024) for ef_search in sorted({*REQUEST_EF_SEARCH, args.ef_search})]
        for ef_search, candidates in scans:
            question_recall, milliseconds, plan = hnsw_recall(
                dataset, vectors[:RECALL_QUERIES], question_truth, ef_search, candidates
            )
            held_out_recall, _, _ = hnsw_recall(dataset, held_out, held_out_truth, ef_search, candidates)
            recalls.append((ef_search, candidates, question_recall, held_out_recall, milliseconds))
            print(recalls[-1], flush=True)
        markdown = report(args, load_seconds, rows, percentiles(embeds), recalls, plan)
        print(markdown)
        write_section(f"retrieval-latency-{args.chunks}", markdown)
    finally:
        stack.stop(drop_database=not (args.keep or args.reuse))
    return 0


def create_corpus(stack: Stack, count: int, centroids, stats):
    """Create the bench user's dataset with its documents and load ``count`` synthetic chunks into it."""
    from accounts.models import User
    from documents.models import Document
    from knowledgebases import services as dataset_services

    user = User.objects.get(email=f"bench-{stack.name}@example.com")
    dataset = dataset_services.create_dataset(tenant_id=user.id, user=user, name="latency")
    documents = Document.objects.bulk_create(
        Document(dataset=dataset, created_by=user, name=f"synthetic-{number}.txt", type="doc", suffix="txt",
                 chunk_method="naive")
        for number in range(DOCUMENT_COUNT)
    )
    dataset.load_seconds = load_chunks(stack, count, dataset.pk, [d.pk for d in documents], centroids, stats)
    return dataset


if __name__ == "__main__":
    sys.exit(main())
