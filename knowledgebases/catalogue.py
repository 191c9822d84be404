"""Model providers this server knows how to reach, and the models each offers without configuration."""

from dataclasses import dataclass, field

from knowledgebases.choices import ModelType, ProviderKind

BUILTIN_PROVIDER = "Builtin"
# Instance of the built-in provider that every tenant gets; a two-part reference names it.
DEFAULT_INSTANCE = "default"
DEFAULT_EMBEDDING_MODEL_NAME = "all-MiniLM-L6-v2"
DEFAULT_EMBEDDING_MODEL = f"{DEFAULT_EMBEDDING_MODEL_NAME}@{BUILTIN_PROVIDER}"


@dataclass(frozen=True)
class CatalogueModel:
    name: str
    model_type: str
    max_tokens: int
    dimension: int | None = None


@dataclass(frozen=True)
class ProviderSpec:
    """A provider name clients may add, how it is reached and the models bound when none are listed."""

    kind: str
    default_base_url: str = ""
    models: tuple[CatalogueModel, ...] = field(default_factory=tuple)


PROVIDERS: dict[str, ProviderSpec] = {
    BUILTIN_PROVIDER: ProviderSpec(
        kind=ProviderKind.BUILTIN,
        # The sentence-transformers model truncates its input at 256 tokens and returns 384 floats.
        models=(CatalogueModel(DEFAULT_EMBEDDING_MODEL_NAME, ModelType.EMBEDDING, max_tokens=256, dimension=384),),
    ),
    # NOTE: the OpenAI-compatible providers list no catalogue models, so an instance added without
    # ``model_info`` has no models until the client lists them.
    "OpenAI-API-Compatible": ProviderSpec(kind=ProviderKind.OPENAI_COMPATIBLE),
    "OpenAI": ProviderSpec(kind=ProviderKind.OPENAI_COMPATIBLE, default_base_url="https://api.openai.com/v1"),
    # Rerank services: their ``POST /rerank`` takes the same request as vLLM's and Xinference's, so
    # the HTTP client of that kind serves them; an instance lists its models in ``model_info``.
    "Jina": ProviderSpec(kind=ProviderKind.OPENAI_COMPATIBLE, default_base_url="https://api.jina.ai/v1"),
    "Cohere": ProviderSpec(kind=ProviderKind.OPENAI_COMPATIBLE, default_base_url="https://api.cohere.com/v2"),
    "ZHIPU-AI": ProviderSpec(kind=ProviderKind.OPENAI_COMPATIBLE, default_base_url="https://open.bigmodel.cn/api/paas/v4"),
}
