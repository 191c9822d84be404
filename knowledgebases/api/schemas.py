"""Pydantic models of dataset and model-registry requests.

Field types, bounds and validator messages reproduce RAGFlow v0.27, whose clients and tests match
the message texts.
"""

import json
import string
import uuid
from collections import Counter
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from knowledgebases.choices import ChunkMethod, ModelType
from knowledgebases.model_registry import HEX_ID
from knowledgebases.parser_config import ParserConfig

TEXT_MAX_LENGTH = 65535
ALLOWED_AVATAR_TYPES = ["image/jpeg", "image/png"]
CHUNK_METHODS = [choice.value for choice in ChunkMethod]
CHUNK_METHOD_MESSAGE = "Input should be " + ", ".join(f"'{m}'" for m in CHUNK_METHODS[:-1]) + f" or '{CHUNK_METHODS[-1]}'"
# Most ids a list filter or a batch request may carry.
MAX_IDS = 100

DatasetName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


def to_hex_id(value: Any) -> str:
    """Return a UUID given in any standard form as 32 lowercase hex digits."""
    try:
        return uuid.UUID(value).hex
    except (AttributeError, ValueError, TypeError):
        raise PydanticCustomError("invalid_UUID_format", "Invalid UUID format") from None


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class AutoMetadataConfig(StrictBody):
    metadata: list[dict] = Field(default_factory=list)
    built_in_metadata: list[dict] = Field(default_factory=list)


class DatasetFields(StrictBody):
    """Fields shared by dataset create and update requests."""

    avatar: Annotated[str | None, Field(max_length=TEXT_MAX_LENGTH)] = None
    description: Annotated[str | None, Field(max_length=TEXT_MAX_LENGTH)] = None
    embedding_model: Annotated[str | None, Field(max_length=255)] = None
    permission: Literal["me", "team"] = "me"
    parse_type: Annotated[int | None, Field(ge=0, le=64)] = None
    pipeline_id: str | None = None
    chunk_method: str | None = None
    parser_config: ParserConfig | None = None
    auto_metadata_config: AutoMetadataConfig | None = None
    ext: dict = Field(default_factory=dict)

    @field_validator("avatar")
    @classmethod
    def check_avatar(cls, value: str | None) -> str | None:
        """Accept only a ``data:`` URI of a JPEG or PNG image."""
        if not value:
            return value
        if "," not in value:
            raise PydanticCustomError("format_invalid", "Missing MIME prefix. Expected format: data:<mime>;base64,<data>")
        prefix = value.split(",", 1)[0]
        if not prefix.startswith("data:"):
            raise PydanticCustomError("format_invalid", "Invalid MIME prefix format. Must start with 'data:'")
        if prefix[5:].split(";", 1)[0] not in ALLOWED_AVATAR_TYPES:
            raise PydanticCustomError("format_invalid", f"Unsupported MIME type. Allowed: {ALLOWED_AVATAR_TYPES}")
        return value

    @field_validator("embedding_model", mode="before")
    @classmethod
    def strip_embedding_model(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("embedding_model")
    @classmethod
    def check_embedding_model(cls, value: str | None) -> str | None:
        """Require ``<model_name>@<provider>`` unless the value is a tenant-model id; empty means unset."""
        if not value or HEX_ID.match(value):
            return value
        if "@" not in value:
            raise PydanticCustomError("format_invalid", "Embedding model identifier must follow <model_name>@<provider> format")
        model_name, provider = value.split("@", 1)
        if not model_name or not provider:
            raise PydanticCustomError("format_invalid", "Both model_name and provider must be non-empty strings")
        return value

    @field_validator("pipeline_id", mode="before")
    @classmethod
    def drop_pipeline_for_builtin_parsing(cls, value: Any, info: ValidationInfo) -> Any:
        """Ignore the pipeline when ``parse_type`` 1 selects the built-in chunk methods."""
        if value is not None and info.data.get("parse_type") == 1:
            return None
        return value

    @field_validator("pipeline_id")
    @classmethod
    def check_pipeline_id(cls, value: str | None) -> str | None:
        if not value:
            return None
        if len(value) != 32:
            raise PydanticCustomError("format_invalid", "pipeline_id must be 32 hex characters")
        if any(char not in string.hexdigits for char in value):
            raise PydanticCustomError("format_invalid", "pipeline_id must be hexadecimal")
        return value.lower()

    @field_validator("chunk_method", mode="wrap")
    @classmethod
    def check_chunk_method(cls, value: Any, handler, info: ValidationInfo) -> Any:
        """Report every invalid chunk method, wrong types included, with the one enumeration message."""
        try:
            method = handler(value)
        except ValueError:
            raise PydanticCustomError("literal_error", CHUNK_METHOD_MESSAGE) from None
        if method is None and info.data.get("pipeline_id"):
            return None
        if method not in CHUNK_METHODS:
            raise PydanticCustomError("literal_error", CHUNK_METHOD_MESSAGE)
        return method

    @field_validator("parser_config", mode="before")
    @classmethod
    def empty_parser_config_is_none(cls, value: Any) -> Any:
        return None if value == {} else value

    @field_validator("parser_config")
    @classmethod
    def check_parser_config_size(cls, value: ParserConfig | None) -> ParserConfig | None:
        if value is None:
            return None
        size = len(value.model_dump_json())
        if size > TEXT_MAX_LENGTH:
            raise PydanticCustomError(
                "string_too_long",
                "Parser config exceeds size limit (max 65,535 characters). Current size: {actual}",
                {"actual": size},
            )
        return value

    @model_validator(mode="after")
    def check_parsing_mode(self):
        """Allow either a chunk method or an ingestion pipeline (``parse_type`` and ``pipeline_id``)."""
        if "chunk_method" not in self.model_fields_set:
            if self.parse_type is None and self.pipeline_id is None:
                return self
            missing = [name for name in ("parse_type", "pipeline_id") if getattr(self, name) is None]
            if missing:
                raise PydanticCustomError(
                    "dependency_error",
                    "parser_id omitted → required fields missing: {fields}",
                    {"fields": ", ".join(missing)},
                )
            return self
        if self.chunk_method is not None:
            disallowed = []
            if self.parse_type not in (None, 1):
                disallowed.append("parse_type")
            if self.pipeline_id is not None:
                disallowed.append("pipeline_id")
            if disallowed:
                raise PydanticCustomError(
                    "dependency_error",
                    "parser_id provided → disallowed fields present: {fields}",
                    {"fields": ", ".join(disallowed)},
                )
        return self


class CreateDatasetRequest(DatasetFields):
    name: DatasetName

    def chosen_chunk_method(self) -> str | None:
        """Return the chunk method; omitted with no pipeline means ``naive``, a pipeline means None."""
        if self.chunk_method is None and self.pipeline_id is None:
            return ChunkMethod.NAIVE
        return self.chunk_method


class UpdateDatasetRequest(DatasetFields):
    name: DatasetName = ""
    pagerank: Annotated[int, Field(ge=0, le=100)] = 0
    language: Annotated[str | None, Field(max_length=32)] = None
    connectors: list[dict[str, Any]] = Field(default_factory=list)


class DeleteDatasetsRequest(StrictBody):
    ids: list[str] | None = None
    delete_all: bool = False

    @field_validator("ids")
    @classmethod
    def check_ids(cls, values: list[str] | None) -> list[str] | None:
        return unique_hex_ids(values)


def unique_hex_ids(values: list[Any] | None) -> list[str] | None:
    """Normalise ids to 32-hex form and reject repeated ones with RAGFlow's message."""
    if values is None:
        return None
    ids = [to_hex_id(value) for value in values]
    duplicates = [value for value, count in Counter(ids).items() if count > 1]
    if duplicates:
        raise PydanticCustomError("duplicate_uuids", "Duplicate ids: '{duplicate_ids}'", {"duplicate_ids": ", ".join(duplicates)})
    return ids


class ListDatasetsQuery(BaseModel):
    """Query of ``GET /datasets``; types are coerced because query values arrive as strings."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    ids: list[str] | None = None
    name: str | None = None
    page: Annotated[int, Field(ge=1)] = 1
    page_size: Annotated[int, Field(ge=1, le=100)] = 30
    orderby: Literal["create_time", "update_time"] = "create_time"
    desc: bool = True
    include_parsing_status: bool = False
    ext: dict = Field(default_factory=dict)

    @field_validator("id", mode="before")
    @classmethod
    def check_id(cls, value: Any) -> Any:
        return None if value is None else to_hex_id(value)

    @field_validator("ids", mode="before")
    @classmethod
    def split_ids(cls, value: Any) -> Any:
        """Accept repeated ``ids`` keys and comma-separated values alike."""
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            return [part.strip() for item in value for part in str(item).split(",") if part.strip()]
        return value

    @field_validator("ids")
    @classmethod
    def check_ids(cls, values: list[str] | None) -> list[str] | None:
        if values is not None and len(values) > MAX_IDS:
            raise PydanticCustomError("too_long", "ids must contain at most {max} ids", {"max": MAX_IDS})
        return unique_hex_ids(values)

    @field_validator("ext", mode="before")
    @classmethod
    def parse_ext(cls, value: Any) -> Any:
        """Read ``ext`` as a JSON object given in the query string."""
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise PydanticCustomError("json_invalid", "ext must be a JSON object") from None
        return value


class ModelInfoItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_type: list[ModelType] | ModelType
    model_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    max_tokens: Annotated[int, Field(ge=1)] = 8192
    dimension: Annotated[int | None, Field(ge=1)] = None


class AddInstanceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instance_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
    api_key: str = ""
    region: str = "default"
    base_url: str | None = ""
    model_info: list[ModelInfoItem] | None = None


class SetDefaultModelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_type: ModelType
    model_id: str | None = None
    model_provider: str | None = None
    model_instance: str | None = None
    model_name: str | None = None

    @model_validator(mode="after")
    def check_model_named(self):
        if not self.model_id and not (self.model_provider and self.model_name):
            raise PydanticCustomError(
                "missing", "Give model_id, or model_provider and model_name (and model_instance if not 'default')"
            )
        return self

    def reference(self) -> str:
        if self.model_id:
            return self.model_id
        if self.model_instance:
            return f"{self.model_name}@{self.model_instance}@{self.model_provider}"
        return f"{self.model_name}@{self.model_provider}"
