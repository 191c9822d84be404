"""Text analysis for PostgreSQL full-text search, shared by chunk indexing and queries.

PostgreSQL's ``english`` configuration stems and lower-cases Latin-script words but treats a run
of Chinese characters as one word. CJK runs are therefore segmented here first, into jieba's
search-mode words plus every two-character window, so terms missing from jieba's dictionary still
match.
"""

import html
import logging
import math
import re
import threading
import time

logger = logging.getLogger(__name__)

# The text search configuration used for every chunk and query.
SEARCH_CONFIG = "english"

# CJK Unified Ideographs with Extension A and the compatibility block; kana and hangul too, because
# they are also written without spaces.
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")

_jieba_lock = threading.Lock()
_jieba = None


def _segmenter():
    global _jieba
    with _jieba_lock:
        if _jieba is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            _jieba = jieba
    return _jieba


def _cjk_terms(run: str) -> list[str]:
    terms = [word for word in _segmenter().cut_for_search(run) if word.strip()]
    if len(run) > 1:
        terms.extend(run[index : index + 2] for index in range(len(run) - 1))
    else:
        terms.append(run)
    return terms


def analyze(text: str) -> str:
    """Return ``text`` with its CJK runs replaced by space-separated search terms.

    The result is what ``to_tsvector(SEARCH_CONFIG, ...)`` indexes, for chunks and questions alike.
    """
    if not text:
        return ""
    if not _CJK_RUN.search(text):
        return text
    parts = []
    position = 0
    for match in _CJK_RUN.finditer(text):
        parts.append(text[position : match.start()])
        parts.append(" " + " ".join(dict.fromkeys(_cjk_terms(match.group()))) + " ")
        position = match.end()
    parts.append(text[position:])
    return "".join(parts)


# --- Query side ------------------------------------------------------------------------------------

# Seconds a process keeps the lexeme frequencies read from pg_stats. ANALYZE (run by autovacuum
# after about a tenth of the table changes) refreshes them, so a few minutes of staleness is harmless.
TERM_STATISTICS_TTL_SECONDS = 300
# Characters that cannot appear in text sent to ts_headline, so they can mark highlight bounds.
_HIGHLIGHT_START = "\x02"
_HIGHLIGHT_STOP = "\x03"
_CONTROL_MARKS = re.compile("[\x02\x03]")

_statistics_lock = threading.Lock()
_statistics: tuple[float, dict[str, float], float | None] | None = None


def query_lexemes(text: str) -> list[str]:
    """Return the distinct lexemes of a query, normalised exactly as chunk text is indexed."""
    from django.db import connection

    analyzed = analyze(text or "")
    if not analyzed.strip():
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT tsvector_to_array(to_tsvector(%s::regconfig, %s))", [SEARCH_CONFIG, analyzed])
        row = cursor.fetchone()
    return list(row[0] or []) if row else []


def _escaped(lexeme: str) -> str:
    """Return a lexeme as PostgreSQL quotes it in tsquery input and tsvector output, without the quotes."""
    return lexeme.replace("\\", "\\\\").replace("'", "''")


def lexeme_query(lexemes: list[str]) -> str:
    """Return tsquery input that matches any of ``lexemes`` (already normalised, so cast, not parsed)."""
    quoted = ("'" + _escaped(lexeme) + "'" for lexeme in lexemes)
    return " | ".join(quoted)


def _load_statistics() -> tuple[dict[str, float], float | None]:
    """Read the most common lexemes of chunk text and their row fractions from the planner statistics."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
            "WHERE schemaname = current_schema() AND tablename = 'documents_chunk' AND attname = 'search_vector'"
        )
        row = cursor.fetchone()
    if not row or not row[0] or not row[1]:
        return {}, None
    lexemes, fractions = row
    # pg_stats appends the minimum, the maximum and the null fraction after one fraction per lexeme.
    frequencies = dict(zip(lexemes, fractions[: len(lexemes)]))
    return frequencies, fractions[len(lexemes)]


def lexeme_frequencies(lexemes: list[str]) -> dict[str, float | None]:
    """Estimate the fraction of chunks that contain each lexeme; None when no statistics exist yet.

    The fractions come from ANALYZE's sample of the whole chunk table, the same numbers the planner
    uses. A lexeme missing from the sample's most common list gets half the smallest listed
    fraction, as the planner assumes.
    NOTE: the statistics cover every tenant's chunks, so weights follow the whole table's vocabulary
    rather than the searched datasets'.
    """
    global _statistics
    with _statistics_lock:
        if _statistics is None or time.monotonic() - _statistics[0] > TERM_STATISTICS_TTL_SECONDS:
            frequencies, minimum = _load_statistics()
            _statistics = (time.monotonic(), frequencies, minimum)
        _, frequencies, minimum = _statistics
    if minimum is None:
        return {lexeme: None for lexeme in lexemes}
    return {lexeme: frequencies.get(lexeme, minimum / 2) for lexeme in lexemes}


def forget_statistics() -> None:
    """Drop the cached lexeme frequencies so the next query reads pg_stats again."""
    global _statistics
    with _statistics_lock:
        _statistics = None


def inverse_document_frequency(fraction: float | None) -> float:
    """Return ln(1/f), BM25's IDF for a term in a fraction f of the rows; 1.0 when f is unknown."""
    if fraction is None:
        return 1.0
    return math.log(1.0 / min(max(fraction, 1e-9), 1.0)) or 1e-3


def highlight(texts: list[str], lexemes: list[str]) -> list[str]:
    """Return each text HTML-escaped with the words that match ``lexemes`` wrapped in ``<em>``.

    PostgreSQL's ts_headline marks Latin-script words; CJK query terms are marked by substring,
    because the text parser sees a CJK run as one word. Nothing of the text is ever left unescaped.
    """
    from django.db import connection

    if not texts:
        return []
    cleaned = [_CONTROL_MARKS.sub("", text or "") for text in texts]
    if not lexemes:
        return [html.escape(text) for text in cleaned]
    options = f"StartSel={_HIGHLIGHT_START}, StopSel={_HIGHLIGHT_STOP}, HighlightAll=true"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ts_headline(%s::regconfig, t.text, %s::tsquery, %s) FROM unnest(%s::text[]) WITH ORDINALITY AS t(text, n) "
            "ORDER BY t.n",
            [SEARCH_CONFIG, lexeme_query(lexemes), options, cleaned],
        )
        marked = [row[0] for row in cursor.fetchall()]
    cjk_terms = sorted({lexeme for lexeme in lexemes if _CJK_RUN.fullmatch(lexeme)}, key=len, reverse=True)
    cjk_pattern = re.compile("|".join(re.escape(term) for term in cjk_terms)) if cjk_terms else None
    return [_render_marks(text, cjk_pattern) for text in marked]


def _render_marks(marked: str, cjk_pattern) -> str:
    parts = []
    inside = False
    for piece in re.split(f"([{_HIGHLIGHT_START}{_HIGHLIGHT_STOP}])", marked):
        if piece == _HIGHLIGHT_START:
            inside = True
            parts.append("<em>")
        elif piece == _HIGHLIGHT_STOP:
            inside = False
            parts.append("</em>")
        elif inside or cjk_pattern is None:
            parts.append(html.escape(piece))
        else:
            escaped = html.escape(piece)
            parts.append(cjk_pattern.sub(lambda match: f"<em>{match.group()}</em>", escaped))
    return "".join(parts)


# ts_rank (normalisation 0, every label weighted 0.1) of one occurrence of one query lexeme. Dividing by it
# turns a lexeme's rank into a term-frequency factor: 1.0 for one occurrence, rising with repeats and
# saturating near 1.64, a curve close to BM25's with k1 = 1.2.
SINGLE_OCCURRENCE_RANK = 0.0607927


def term_score_sql(
    lexemes: list[str], weights: list[float], column: str = "search_vector", *, count_repeats: bool = True
) -> tuple[str, list]:
    """Return an SQL expression (with its parameters) of a chunk's term similarity in [0, 1].

    The score is the IDF-weighted share of query lexemes that the chunk contains, each counted by
    its term-frequency factor (or once, without ``count_repeats``) and capped at 1: a chunk with
    every query lexeme once scores 1, a chunk with only the common ones scores near 0.
    """
    if not lexemes:
        return "0.0", []
    total = sum(weights) or 1.0
    parts, params = [], []
    for lexeme, weight in zip(lexemes, weights):
        if count_repeats:
            parts.append(f"%s * ts_rank('{{0.1, 0.1, 0.1, 0.1}}', {column}, %s::tsquery, 0)")
            params.extend([weight / (total * SINGLE_OCCURRENCE_RANK), lexeme_query([lexeme])])
        else:
            parts.append(f"%s * ({column} @@ %s::tsquery)::int")
            params.extend([weight / total, lexeme_query([lexeme])])
    return f"LEAST(1.0, {' + '.join(parts)})", params


# One lexeme of a tsvector's text form with its optional positions: 'it''s':3A,17A
_TSVECTOR_ENTRY = re.compile(r"'((?:[^'\\]|''|\\.)*)'(?::([0-9A-D,]+))?")


# BM25's term-frequency saturation and length normalisation, at the values of the Anserini toolkit's
# BEIR baselines. On NFCorpus they rank slightly better in hybrid search than Lucene's defaults
# (k1 = 1.2, b = 0.75); see the retrieval notes in docs/benchmarks.md.
BM25_K1 = 0.9
BM25_B = 0.4


class TermScorer:
    """BM25 scores of chunks for one query, as a share of the highest score the query can reach.

    ``weights`` maps each query lexeme to its IDF weight. score() takes the text form of a chunk's
    matched part (matched_lexemes_sql) and the chunk's length over the average chunk length. Each
    lexeme adds its weight times BM25's term-frequency factor, which is 1 for one occurrence at
    average length, more for repeats and short chunks, less in long chunks, and below k1 + 1
    always. Dividing by k1 + 1 times the total weight keeps the order of the scores, in [0, 1). A
    cap at 1 would instead tie every short chunk that matches most of the question.
    """

    __slots__ = ("_weights", "_scale")

    def __init__(self, weights: dict[str, float]):
        # Keyed by the escaped form that PostgreSQL prints, so score() needs no unescaping.
        self._weights = {_escaped(lexeme): weight for lexeme, weight in weights.items() if weight}
        self._scale = 1.0 / (sum(weights.values()) or 1.0)

    def score(self, tsvector_text: str, length_ratio: float = 1.0) -> float:
        if not tsvector_text:
            return 0.0
        length_norm = BM25_K1 * (1 - BM25_B + BM25_B * length_ratio)
        weights = self._weights
        total = 0.0
        for lexeme, positions in _TSVECTOR_ENTRY.findall(tsvector_text):
            weight = weights.get(lexeme)
            if weight:
                occurrences = positions.count(",") + 1 if positions else 1
                total += weight * occurrences / (occurrences + length_norm)
        # The factor k1 + 1 of each term cancels against the same factor of the highest score.
        return total * self._scale


def matched_lexemes_sql(column: str, lexemes: list[str]) -> tuple[str, list]:
    """Return SQL of the part of a tsvector that holds ``lexemes`` (with positions), and its parameters.

    Scoring this small tsvector instead of the stored one reads and decompresses each stored value
    once per row rather than once per query lexeme.
    """
    return f"ts_filter(setweight({column}, 'A', %s::text[]), '{{a}}')", [lexemes]
