"""Retrieval quality on a BEIR-format set, measured through the HTTP API.

Usage (from the repository root):

    .venv/bin/python bench/retrieval_eval.py ../shared/data/devset/nfcorpus [--weights 0 0.1 0.3 0.5 0.7 1]

DIR contains ``corpus.jsonl``, ``queries.jsonl`` and ``qrels_test.tsv``. The script starts a fresh
stack (bench/stack.py), uploads every corpus record as a text file (title, blank line, text),
parses them with the real worker, and sends every test query to ``POST /api/v1/retrieval``. For
each vector_similarity_weight it prints nDCG@10, Recall@10, Recall@100 and MRR@10, and one more
row with the server's default settings, then writes them to docs/benchmarks.md.

A document's rank is the rank of its best chunk. Sweep rows use each similarity_threshold of
``--thresholds`` (default 0, which ranks every candidate); the defaults row omits the fields, so the
server's defaults apply (threshold 0.2). ``--keep`` keeps the ingested database and ``--reuse``
queries it again without ingesting, for comparing ranking changes in minutes.
"""

import argparse
import json
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import Stack, machine_description, setup_django, write_section  # noqa: E402

# Files per upload request: keeps multipart bodies around a megabyte for abstracts.
UPLOAD_BATCH = 200
# Documents per parse request.
PARSE_BATCH = 500
# Parsing a few thousand abstracts at about 19 chunks/s takes minutes; two hours bounds a stuck run.
INGEST_TIMEOUT_SECONDS = 7200
POLL_SECONDS = 5
# Chunks requested per query: one page of the maximum size, enough for Recall@100 when most
# documents are one chunk.
RESULTS_PER_QUERY = 100
DEFAULT_WEIGHTS = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0]


def read_set(directory: Path):
    corpus = {}
    with open(directory / "corpus.jsonl") as handle:
        for line in handle:
            record = json.loads(line)
            corpus[record["_id"]] = (record.get("title") or "", record.get("text") or "")
    queries = {}
    with open(directory / "queries.jsonl") as handle:
        for line in handle:
            record = json.loads(line)
            queries[record["_id"]] = record["text"]
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with open(directory / "qrels_test.tsv") as handle:
        next(handle)
        for line in handle:
            query_id, corpus_id, score = line.rstrip("\n").split("\t")
            qrels[query_id][corpus_id] = int(score)
    return corpus, {key: text for key, text in queries.items() if key in qrels}, qrels


class Client:
    def __init__(self, stack: Stack):
        self.base = f"{stack.base_url}/api/v1"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {stack.api_key}"

    def call(self, method: str, path: str, **kwargs) -> dict:
        response = self.session.request(method, self.base + path, timeout=600, **kwargs)
        payload = response.json()
        if payload.get("code") != 0:
            raise RuntimeError(f"{method} {path} failed: {str(payload)[:500]}")
        return payload


def ingest(client: Client, stack: Stack, corpus: dict) -> tuple[str, dict[str, str], float]:
    """Upload and parse the corpus; return the dataset id, document id to corpus id, and seconds."""
    started = time.monotonic()
    dataset_id = client.call("POST", "/datasets", json={"name": "beir", "chunk_method": "naive"})["data"]["id"]
    names = list(corpus)
    documents = {}
    for start in range(0, len(names), UPLOAD_BATCH):
        files = [
            ("file", (f"{corpus_id}.txt", f"{corpus[corpus_id][0]}\n\n{corpus[corpus_id][1]}".encode(), "text/plain"))
            for corpus_id in names[start : start + UPLOAD_BATCH]
        ]
        for item in client.call("POST", f"/datasets/{dataset_id}/documents", files=files)["data"]:
            documents[item["id"]] = item["name"].removesuffix(".txt")
    print(f"uploaded {len(documents)} documents in {time.monotonic() - started:.0f} s", flush=True)
    ids = list(documents)
    for start in range(0, len(ids), PARSE_BATCH):
        client.call("POST", f"/datasets/{dataset_id}/chunks", json={"document_ids": ids[start : start + PARSE_BATCH]})

    from documents.choices import RunStatus
    from documents.models import Document

    deadline = time.monotonic() + INGEST_TIMEOUT_SECONDS
    while True:
        pending = Document.objects.filter(dataset_id=dataset_id).exclude(run__in=[RunStatus.DONE, RunStatus.FAIL]).count()
        failed = Document.objects.filter(dataset_id=dataset_id, run=RunStatus.FAIL).count()
        if pending == 0:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"{pending} documents still parsing after {INGEST_TIMEOUT_SECONDS} s")
        print(f"  {pending} documents pending, {failed} failed, {time.monotonic() - started:.0f} s", flush=True)
        time.sleep(POLL_SECONDS)
    if failed:
        raise RuntimeError(f"{failed} documents failed to parse; see {stack.log_dir}")
    with psycopg.connect(stack.database_url, autocommit=True) as connection:
        # Term weights come from planner statistics; autovacuum would refresh them within minutes.
        connection.execute("ANALYZE documents_chunk")
    return dataset_id, documents, time.monotonic() - started


def ingested_corpus() -> tuple[str, dict[str, str]]:
    """Return the dataset id and document id to corpus id of a kept database."""
    from documents.models import Document
    from knowledgebases.models import Dataset

    dataset = Dataset.objects.get(name="beir")
    names = Document.objects.filter(dataset=dataset).values_list("id", "name")
    return dataset.pk, {doc_id: name.removesuffix(".txt") for doc_id, name in names}


def ranked_documents(client: Client, dataset_id: str, question: str, documents: dict, fields: dict) -> list[str]:
    body = {"dataset_ids": [dataset_id], "question": question, "page_size": RESULTS_PER_QUERY} | fields
    chunks = client.call("POST", "/retrieval", json=body)["data"]["chunks"]
    ranking = []
    for chunk in chunks:
        corpus_id = documents[chunk["document_id"]]
        if corpus_id not in ranking:
            ranking.append(corpus_id)
    return ranking


def metrics(ranking: list[str], relevance: dict[str, int]) -> dict[str, float]:
    relevant = {corpus_id for corpus_id, score in relevance.items() if score > 0}
    gains = [relevance.get(corpus_id, 0) for corpus_id in ranking[:10]]
    dcg = sum(gain / math.log2(rank + 2) for rank, gain in enumerate(gains))
    ideal = sorted(relevance.values(), reverse=True)[:10]
    idcg = sum(gain / math.log2(rank + 2) for rank, gain in enumerate(ideal))
    first = next((rank for rank, corpus_id in enumerate(ranking[:10]) if corpus_id in relevant), None)
    return {
        "ndcg@10": dcg / idcg if idcg else 0.0,
        "recall@10": len(relevant & set(ranking[:10])) / len(relevant) if relevant else 0.0,
        "recall@100": len(relevant & set(ranking[:100])) / len(relevant) if relevant else 0.0,
        "mrr@10": 1.0 / (first + 1) if first is not None else 0.0,
    }


def evaluate(client: Client, dataset_id: str, documents: dict, queries: dict, qrels: dict, fields: dict) -> dict:
    totals: dict[str, float] = defaultdict(float)
    started = time.monotonic()
    for query_id, question in queries.items():
        for name, value in metrics(ranked_documents(client, dataset_id, question, documents, fields), qrels[query_id]).items():
            totals[name] += value
    result = {name: value / len(queries) for name, value in totals.items()}
    result["seconds_per_query"] = (time.monotonic() - started) / len(queries)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path, help="folder with corpus.jsonl, queries.jsonl and qrels_test.tsv")
    parser.add_argument("--weights", type=float, nargs="+", default=DEFAULT_WEIGHTS,
                        help="vector_similarity_weight values to sweep (0 = full-text only, 1 = vector only)")
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.0],
                        help="similarity_threshold values of the sweep rows (0 ranks every candidate)")
    parser.add_argument("--keep", action="store_true", help="keep the database after the run")
    parser.add_argument("--reuse", action="store_true", help="query the corpus an earlier --keep run ingested")
    parser.add_argument("--workers", type=int, default=1, help="parse workers for the ingestion")
    args = parser.parse_args()

    corpus, queries, qrels = read_set(args.directory)
    stack = Stack("retrieval_eval", workers=0 if args.reuse else args.workers, redis_db=12)
    stack.start(reuse_database=args.reuse)
    try:
        setup_django(stack)
        client = Client(stack)
        if args.reuse:
            dataset_id, documents = ingested_corpus()
            ingest_seconds = None
        else:
            dataset_id, documents, ingest_seconds = ingest(client, stack, corpus)
        from documents.models import Chunk

        chunk_count = Chunk.objects.filter(dataset_id=dataset_id).count()
        rows = []
        for threshold, weight in [(threshold, weight) for threshold in args.thresholds for weight in args.weights]:
            fields = {"vector_similarity_weight": weight, "similarity_threshold": threshold}
            label = f"weight {weight:g}" + (f", threshold {threshold:g}" if threshold else "")
            rows.append((label, evaluate(client, dataset_id, documents, queries, qrels, fields)))
            print(rows[-1], flush=True)
        rows.append(("server defaults (fields omitted)", evaluate(client, dataset_id, documents, queries, qrels, {})))
        print(rows[-1], flush=True)
    finally:
        stack.stop(drop_database=not (args.keep or args.reuse))

    name = args.directory.name
    if ingest_seconds is None:
        ingested = "ingested through the API by an earlier run with `--keep`, reused with `--reuse`"
    else:
        ingested = f"ingested through the API and {args.workers} worker(s) in {ingest_seconds:.0f} s"
    lines = [
        f"## Retrieval quality, {name} (`bench/retrieval_eval.py`)",
        "",
        f"Machine: {machine_description()}. Command: `.venv/bin/python bench/retrieval_eval.py {args.directory}"
        f"{' '.join(['', *sys.argv[2:]])}`"
        f" ({time.strftime('%Y-%m-%d')}). {len(corpus)} documents ({chunk_count} chunks, {ingested}),"
        f" {len(queries)} test queries, all-MiniLM-L6-v2 embeddings. Database `ragflow_bench_retrieval_eval`.",
        "",
        "| setting | nDCG@10 | Recall@10 | Recall@100 | MRR@10 | s/query |",
        "|---|---|---|---|---|---|",
    ]
    for label, values in rows:
        lines.append(
            f"| {label} | {values['ndcg@10']:.3f} | {values['recall@10']:.3f} | {values['recall@100']:.3f} |"
            f" {values['mrr@10']:.3f} | {values['seconds_per_query']:.3f} |"
        )
    markdown = "\n".join(lines)
    print(markdown)
    write_section(f"retrieval-eval-{name}", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
