from django.db import models


class DatasetPermission(models.TextChoices):
    ME = "me", "Only me"
    TEAM = "team", "Team"


class DatasetStatus(models.TextChoices):
    VALID = "1", "Valid"
    INVALID = "0", "Invalid"


class ChunkMethod(models.TextChoices):
    NAIVE = "naive", "General"
    BOOK = "book", "Book"
    EMAIL = "email", "Email"
    LAWS = "laws", "Laws"
    MANUAL = "manual", "Manual"
    ONE = "one", "One"
    PAPER = "paper", "Paper"
    PICTURE = "picture", "Picture"
    PRESENTATION = "presentation", "Presentation"
    QA = "qa", "Q&A"
    TABLE = "table", "Table"
    TAG = "tag", "Tag"
    RESUME = "resume", "Resume"


class ModelType(models.TextChoices):
    CHAT = "chat", "Chat"
    EMBEDDING = "embedding", "Embedding"
    RERANK = "rerank", "Rerank"
    IMAGE2TEXT = "image2text", "Image to text"
    SPEECH2TEXT = "speech2text", "Speech to text"
    TTS = "tts", "Text to speech"


class ProviderKind(models.TextChoices):
    """How the models of a provider are reached; later work adds clients per kind."""

    BUILTIN = "builtin", "Built-in (runs in this server)"
    OPENAI_COMPATIBLE = "openai_compatible", "OpenAI-API-compatible HTTP service"
