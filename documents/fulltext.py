"""Text analysis for PostgreSQL full-text search, shared by chunk indexing and queries.

PostgreSQL's ``english`` configuration stems and lower-cases Latin-script words but treats a run
of Chinese characters as one word, so CJK runs are segmented here first: jieba's search-mode words
plus every two-character window, so that terms missing from jieba's dictionary still match.
"""

import logging
import re
import threading

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
