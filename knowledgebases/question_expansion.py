"""Extend a retrieval question with translations (``cross_languages``) and keywords (``keyword``).

The dataset's chat model writes both. The extended text is the question, then one translation per requested language, then the
keywords, one part per line. Full-text search matches any of its words, so each part can find
chunks that the question's own words miss: a passage in another language, or one that uses a
synonym.
"""

import logging

from knowledgebases.chat import ChatError, NoChatModelError, OpenAICompatibleChat, chat_model_of_dataset, estimate_tokens
from knowledgebases.exceptions import ModelNotFoundError
from knowledgebases.llm_calls import RequestFailed, RetryPolicy, ask_json
from knowledgebases.llm_json import AnswerFormatError
from knowledgebases.models import Dataset

logger = logging.getLogger(__name__)

# Keywords kept from a response. The search keeps only the rarest 32 lexemes of the extended text
# (retrieval.MAX_QUERY_LEXEMES), so many keywords would push the question's own words out.
MAX_KEYWORDS = 8
# max_tokens of the keyword request. Eight short phrases as a JSON array take under 100 tokens,
# and the rest leaves room for a short reasoning block.
KEYWORD_MAX_TOKENS = 256
# max_tokens of the translation request, per language. A translation can take about three times
# the question's estimated tokens in scripts that chat tokenizers split finely (CJK, Thai), and the
# JSON quotes and comma add a few more.
TRANSLATION_TOKEN_FACTOR = 3
TRANSLATION_EXTRA_TOKENS = 16
# A retrieval request waits for these calls, so they get a shorter read timeout than index jobs
# and one retry after half a second for a rate limit, a server error or a dropped connection.
# With the client's 10 s connect timeout, one call can take up to 2 * (10 + 12) + 0.5 s and a
# request with both fields makes two calls, which is why `runall` gives gunicorn workers 120 s.
READ_TIMEOUT_SECONDS = 12
RETRY_POLICY = RetryPolicy(attempts=2, backoff_seconds=0.5, backoff_max_seconds=0.5)
DEFAULT_MODEL_ENDPOINT = "PATCH /api/v1/models/default"

KEYWORD_SYSTEM = "You choose search keywords. Reply with a JSON array of strings and nothing else."
KEYWORD_PROMPT = (
    "Give up to {count} keywords or short phrases that a search engine should look for to find passages "
    "answering the question below. Add important synonyms and related terms that the question does not "
    "use itself. Write them in the question's language.\n\nQuestion:\n{question}"
)
TRANSLATION_SYSTEM = "You translate search questions. Reply with a JSON array of strings and nothing else."
TRANSLATION_PROMPT = (
    "Translate the question below into each of these languages, in this order: {languages}. Keep names, "
    "numbers and technical terms. Reply with a JSON array of exactly {count} strings, one translation per "
    "language.\n\nQuestion:\n{question}"
)


class QuestionExpansionError(Exception):
    """A retrieval field that needs the chat model could not be applied. The message names the fix."""


class ChatModelUnavailable(QuestionExpansionError):
    """The dataset has no chat model, or the one it names cannot be used."""


class ExpansionFailed(QuestionExpansionError):
    """The chat model returned no usable response after its retries."""


def expand_question(dataset: Dataset, question: str, *, keyword: bool, languages: list[str]) -> str:
    """Return ``question`` extended with its translations into ``languages`` and, with ``keyword``, its keywords.

    Raises ChatModelUnavailable or ExpansionFailed. Without either option it returns the question
    unchanged and makes no chat call.
    """
    if not keyword and not languages:
        return question
    chat = _chat_model(dataset, keyword=keyword, languages=languages)

    parts = [question]
    if languages:
        parts += _translate(chat, dataset, question, languages)
    if keyword:
        parts.append(" ".join(_keywords(chat, dataset, question)))
    return "\n".join(parts)


def _fields(keyword: bool, languages: list[str]) -> str:
    names = []
    if languages:
        names.append("`cross_languages`")
    if keyword:
        names.append("`keyword`")
    return " and ".join(names)


def _sentence(text: str) -> str:
    text = str(text).strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _chat_model(dataset: Dataset, *, keyword: bool, languages: list[str]) -> OpenAICompatibleChat:
    fields = _fields(keyword, languages)
    try:
        # RETRY_POLICY retries the whole request, so the client itself tries once.
        return chat_model_of_dataset(dataset, attempts=1, read_timeout_seconds=READ_TIMEOUT_SECONDS)
    except NoChatModelError:
        logger.warning("Retrieval with %s in dataset %s has no chat model", fields, dataset.pk)
        raise ChatModelUnavailable(
            f"Retrieval with {fields} needs a chat model, but dataset {dataset.pk} has none. Set the tenant's "
            f"default chat model with {DEFAULT_MODEL_ENDPOINT}, or send the request without {fields}."
        ) from None
    except (ChatError, ModelNotFoundError) as error:
        logger.warning("Retrieval with %s in dataset %s cannot use its chat model: %s", fields, dataset.pk, error)
        raise ChatModelUnavailable(
            f"Retrieval with {fields} needs a chat model, but the chat model of dataset {dataset.pk} cannot be "
            f"used: {_sentence(error)} Fix that model or set another default chat model with {DEFAULT_MODEL_ENDPOINT}, "
            f"or send the request without {fields}."
        ) from None


def _ask(chat: OpenAICompatibleChat, dataset: Dataset, messages: list[dict], *, feature: str, field: str, max_tokens: int, read):
    label = f"{feature} for retrieval in dataset {dataset.pk}"
    logger.info("%s: asking chat model %s", label, chat.name)
    try:
        value, _ = ask_json(
            chat, messages, max_tokens=max_tokens, policy=RETRY_POLICY, cancel=lambda: None, label=label,
            read=read, expect=list,
        )
    except RequestFailed as failure:
        # ask_json does not log a prompt over the context window, so this line covers every failure.
        logger.warning("%s failed: %s", label, failure.reason)
        raise ExpansionFailed(
            f"{feature} (`{field}`) with chat model {chat.name} failed: {_sentence(failure.reason)} Check the "
            f"chat model and its provider, or send the request without `{field}`."
        ) from None
    return value


def _translate(chat: OpenAICompatibleChat, dataset: Dataset, question: str, languages: list[str]) -> list[str]:
    prompt = TRANSLATION_PROMPT.format(languages=", ".join(languages), count=len(languages), question=question)
    messages = [{"role": "system", "content": TRANSLATION_SYSTEM}, {"role": "user", "content": prompt}]
    per_language = TRANSLATION_TOKEN_FACTOR * estimate_tokens(question) + TRANSLATION_EXTRA_TOKENS

    def read(value: list) -> list[str]:
        translations = [item.strip() for item in value if isinstance(item, str) and item.strip()]
        if len(translations) != len(languages):
            raise AnswerFormatError(f"expected {len(languages)} translations, got {len(translations)}: {value!r:.200}")
        return translations

    return _ask(
        chat, dataset, messages, feature="Translation", field="cross_languages",
        max_tokens=per_language * len(languages), read=read,
    )


def _keywords(chat: OpenAICompatibleChat, dataset: Dataset, question: str) -> list[str]:
    prompt = KEYWORD_PROMPT.format(count=MAX_KEYWORDS, question=question)
    messages = [{"role": "system", "content": KEYWORD_SYSTEM}, {"role": "user", "content": prompt}]

    def read(value: list) -> list[str]:
        keywords = [item.strip() for item in value if isinstance(item, str) and item.strip()]
        if not keywords:
            raise AnswerFormatError(f"expected keyword strings, got {value!r:.200}")
        return list(dict.fromkeys(keywords))[:MAX_KEYWORDS]

    return _ask(
        chat, dataset, messages, feature="Keyword extraction", field="keyword", max_tokens=KEYWORD_MAX_TOKENS,
        read=read,
    )
