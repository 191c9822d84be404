"""The ``parser_config`` of a dataset: its validation model and the defaults of each chunk method.

The key set, bounds and defaults reproduce RAGFlow v0.27, because clients compare the stored
configuration key by key.
"""

import copy
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

# RAGFlow's default RAPTOR summarisation prompt; ``{cluster_content}`` is replaced by the chunks.
DEFAULT_RAPTOR_PROMPT = (
    "Please summarize the following paragraphs. Be careful with the numbers, do not make things up. "
    "Paragraphs as following:\n      {cluster_content}\nThe above is the content you need to summarize."
)
DEFAULT_ENTITY_TYPES = ["organization", "person", "geo", "event", "category"]
# Keys that older clients still send inside ``raptor``; they have no effect any more.
LEGACY_RAPTOR_KEYS = ("ext", "threshold", "clustering_method", "tree_builder")
RAPTOR_MIN_MAX_TOKEN = 512


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class RaptorConfig(StrictModel):
    use_raptor: bool = False
    prompt: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] = DEFAULT_RAPTOR_PROMPT
    max_token: Annotated[int, Field(ge=RAPTOR_MIN_MAX_TOKEN, le=2048)] = 512
    clustering_threshold: Annotated[float, Field(ge=0.0, le=1.0)] = 0.3
    clustering_ratio: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5
    max_cluster: Annotated[int, Field(ge=1, le=1024)] = 64
    random_seed: Annotated[int, Field(ge=0)] = 0
    scope: Literal["file", "dataset"] = "file"
    auto_disable_for_structured_data: bool = True

    @model_validator(mode="before")
    @classmethod
    def drop_legacy_keys(cls, data: Any) -> Any:
        """Drop keys of older RAGFlow versions and raise a legacy ``max_token`` below the minimum."""
        if not isinstance(data, dict):
            return data
        data = {key: value for key, value in data.items() if key not in LEGACY_RAPTOR_KEYS}
        max_token = data.get("max_token")
        if type(max_token) is int and 0 <= max_token < RAPTOR_MIN_MAX_TOKEN:
            data["max_token"] = RAPTOR_MIN_MAX_TOKEN
        return data


class GraphragConfig(StrictModel):
    use_graphrag: bool = False
    entity_types: list[str] = Field(default_factory=lambda: list(DEFAULT_ENTITY_TYPES))
    method: Literal["light", "general", "ner"] = "light"
    community: bool = False
    resolution: bool = False
    batch_chunk_token_size: Annotated[int, Field(ge=512, le=8196)] = 4096
    retry_attempts: Annotated[int, Field(ge=1, le=10)] = 2
    retry_backoff_seconds: Annotated[float, Field(ge=0.0, le=600.0)] = 2.0
    retry_backoff_max_seconds: Annotated[float, Field(ge=0.0, le=3600.0)] = 60.0
    build_subgraph_timeout_per_chunk_seconds: Annotated[int, Field(ge=1, le=86400)] = 300
    build_subgraph_min_timeout_seconds: Annotated[int, Field(ge=1, le=86400)] = 600
    merge_timeout_seconds: Annotated[int, Field(ge=0, le=86400)] = 180
    resolution_timeout_seconds: Annotated[int, Field(ge=0, le=86400)] = 1800
    community_timeout_seconds: Annotated[int, Field(ge=0, le=86400)] = 1800
    lock_acquire_timeout_seconds: Annotated[int, Field(ge=0, le=86400)] = 600


class ParentChildConfig(StrictModel):
    use_parent_child: bool = False
    children_delimiter: Annotated[str, Field(min_length=1)] = "\n"


class ParserConfig(StrictModel):
    """Validation model of ``parser_config`` in dataset create and update requests."""

    auto_keywords: Annotated[int, Field(ge=0, le=32)] = 0
    auto_questions: Annotated[int, Field(ge=0, le=10)] = 0
    chunk_token_num: Annotated[int, Field(ge=1, le=2048)] = 512
    delimiter: Annotated[str, Field(min_length=1)] = "\n"
    graphrag: GraphragConfig = Field(default_factory=GraphragConfig)
    html4excel: bool = False
    layout_recognize: str = "DeepDOC"
    raptor: RaptorConfig = Field(default_factory=RaptorConfig)
    tag_kb_ids: list[str] = Field(default_factory=list)
    topn_tags: Annotated[int, Field(ge=1, le=10)] = 1
    filename_embd_weight: Annotated[float | None, Field(ge=0.0, le=1.0)] = 0.1
    task_page_size: Annotated[int | None, Field(ge=1)] = None
    pages: list[list[int]] | None = None
    parent_child: ParentChildConfig = Field(default_factory=ParentChildConfig)
    enable_children: bool = False
    children_delimiter: str = ""
    compilation_template_group_id: list[str] = Field(default_factory=list)
    ext: dict = Field(default_factory=dict)
    table_column_mode: Literal["auto", "manual"] | None = None
    table_column_roles: dict[str, Literal["indexing", "metadata", "both"]] | None = None
    table_column_names: list[str] | None = None

    @field_validator("compilation_template_group_id", mode="before")
    @classmethod
    def coerce_template_groups(cls, value: Any) -> Any:
        """Accept one id as a string and drop repeated ids, keeping the first occurrence."""
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return list(dict.fromkeys(value))
        return value

    @field_validator("table_column_roles", mode="before")
    @classmethod
    def rename_legacy_role(cls, value: Any) -> Any:
        """Read the role name ``vectorize`` of older clients as ``indexing``."""
        if isinstance(value, dict):
            return {column: "indexing" if role == "vectorize" else role for column, role in value.items()}
        return value


NAIVE_DEFAULTS = {
    "layout_recognize": "DeepDOC",
    "chunk_token_num": 512,
    "delimiter": "\n",
    "auto_keywords": 0,
    "auto_questions": 0,
    "html4excel": False,
    "topn_tags": 3,
    "raptor": {
        "use_raptor": True,
        "prompt": DEFAULT_RAPTOR_PROMPT,
        "max_token": 512,
        "clustering_threshold": 0.3,
        "clustering_ratio": 0.5,
        "max_cluster": 64,
        "random_seed": 0,
    },
    "graphrag": {
        "use_graphrag": True,
        "entity_types": DEFAULT_ENTITY_TYPES,
        "method": "light",
        "batch_chunk_token_size": 4096,
        "retry_attempts": 2,
        "retry_backoff_seconds": 2.0,
        "retry_backoff_max_seconds": 60.0,
        "build_subgraph_timeout_per_chunk_seconds": 300,
        "build_subgraph_min_timeout_seconds": 600,
        "merge_timeout_seconds": 180,
        "resolution_timeout_seconds": 1800,
        "community_timeout_seconds": 1800,
        "lock_acquire_timeout_seconds": 600,
    },
    "parent_child": {"use_parent_child": False, "children_delimiter": "\n"},
}
_NO_INDEXES = {"raptor": {"use_raptor": False}, "graphrag": {"use_graphrag": False}}
METHOD_DEFAULTS = {
    "naive": NAIVE_DEFAULTS,
    "qa": _NO_INDEXES,
    "manual": _NO_INDEXES,
    "paper": _NO_INDEXES,
    "book": _NO_INDEXES,
    "laws": _NO_INDEXES,
    "presentation": _NO_INDEXES,
    "knowledge_graph": {
        "chunk_token_num": 8192,
        "delimiter": "\n",
        "entity_types": ["organization", "person", "location", "event", "time"],
        **_NO_INDEXES,
    },
}
# Keys every configuration carries whatever the chunk method.
BASE_DEFAULTS = {"table_context_size": 0, "image_context_size": 0}


def deep_merge(*configs: dict | None) -> dict:
    """Merge dictionaries left to right into a new one; nested dictionaries merge key by key."""
    merged: dict = {}
    for config in configs:
        for key, value in (config or {}).items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = deep_merge(merged[key], value)
            else:
                merged[key] = copy.deepcopy(value)
    return merged


def apply_children_delimiter(config: dict) -> dict:
    """Copy the child-chunk delimiter to the top level when parent-child chunking is on."""
    parent_child = config.get("parent_child")
    if isinstance(parent_child, dict) and parent_child.get("use_parent_child"):
        config["children_delimiter"] = parent_child.get("children_delimiter", "\n")
    elif "parent_child" in config:
        config["children_delimiter"] = ""
    return config


def default_parser_config(chunk_method: str, user_config: dict | None = None) -> dict:
    """Return the base keys, the chunk method's defaults and ``user_config`` merged in that order."""
    merged = deep_merge(BASE_DEFAULTS, METHOD_DEFAULTS.get(chunk_method), user_config)
    return apply_children_delimiter(merged)
