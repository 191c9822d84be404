"""Use cases of datasets (create, list, read, update, delete) and writes to the model registry."""

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F

from accounts.models import Tenant
from knowledgebases import document_hooks, model_registry
from knowledgebases.choices import ChunkMethod, DatasetPermission, ModelType
from knowledgebases import catalogue
from knowledgebases.exceptions import DatasetAccessError, DatasetNameConflictError, ProviderError
from knowledgebases.models import Dataset, ModelProvider, ProviderInstance, TenantModel
from knowledgebases.parser_config import deep_merge, default_parser_config
from ragflow_site.exceptions import ArgumentError
from ragflow_site.models import now_ms

logger = logging.getLogger(__name__)

NAME_MAX_LENGTH = Dataset._meta.get_field("name").max_length
# Attempts at inserting a de-duplicated name before giving up; only concurrent creates of the same
# name make a second attempt necessary.
NAME_INSERT_ATTEMPTS = 5
# Columns that the ``ext`` object of a create request may set; other columns belong to the server.
EXT_COLUMNS = ("language", "similarity_threshold", "vector_similarity_weight")


def lacks_permission_message(tenant_id: str, target: str) -> str:
    return f"User '{tenant_id}' lacks permission for dataset '{target}'"


# ---- create -------------------------------------------------------------------------------------


def create_dataset(
    *,
    tenant_id: str,
    user,
    name: str,
    avatar: str | None = None,
    description: str | None = None,
    embedding_model: str | None = None,
    permission: str = DatasetPermission.ME,
    chunk_method: str | None = ChunkMethod.NAIVE,
    parser_config: dict | None = None,
    pipeline_id: str | None = None,
    auto_metadata_config: dict | None = None,
    ext: dict | None = None,
) -> Dataset:
    """Create a dataset, naming it ``name(1)``, ``name(2)``... when the tenant already uses the name."""
    tenant = Tenant.objects.get(pk=tenant_id)
    reference = embedding_model or model_registry.default_reference(tenant, ModelType.EMBEDDING)
    tenant_model = model_registry.resolve_model(tenant_id, reference, ModelType.EMBEDDING)

    method = chunk_method or ChunkMethod.NAIVE
    config = default_parser_config(method, parser_config)
    if auto_metadata_config is not None:
        config = _fold_auto_metadata(config, auto_metadata_config)
    config["llm_id"] = tenant.llm_id

    now = now_ms()
    fields = {
        "create_time": now,
        "update_time": now,
        "tenant_id": tenant_id,
        "created_by": user,
        "avatar": avatar,
        "description": description,
        "embedding_model": reference,
        "tenant_embd_id": tenant_model.pk,
        "permission": permission,
        "chunk_method": method,
        "pipeline_id": pipeline_id if chunk_method is None else None,
        "parser_config": config,
        **_ext_columns(ext),
    }
    dataset = _insert_with_free_name(tenant_id, name, fields)
    logger.info("Created dataset %s (%r) for tenant %s", dataset.pk, dataset.name, tenant_id)
    return dataset


def _insert_with_free_name(tenant_id: str, name: str, fields: dict) -> Dataset:
    for _ in range(NAME_INSERT_ATTEMPTS):
        free_name = _free_name(tenant_id, name)
        try:
            with transaction.atomic():
                return Dataset.objects.create(name=free_name, **fields)
        except IntegrityError:
            # Another request took the same name between the check and the insert; look again.
            logger.info("Dataset name %r of tenant %s was taken concurrently; retrying", free_name, tenant_id)
    raise DatasetNameConflictError(f"Dataset name '{name}' already exists")


def _free_name(tenant_id: str, name: str) -> str:
    taken = {
        existing.lower()
        for existing in Dataset.objects.for_tenant(tenant_id).filter(name__istartswith=name).values_list("name", flat=True)
    }
    candidate = name
    number = 0
    while candidate.lower() in taken:
        number += 1
        candidate = f"{name}({number})"
    if len(candidate) > NAME_MAX_LENGTH:
        raise DatasetNameConflictError(f"Dataset name '{name}' already exists")
    return candidate


def _fold_auto_metadata(config: dict, auto_metadata_config: dict) -> dict:
    metadata = auto_metadata_config.get("metadata") or []
    built_in = auto_metadata_config.get("built_in_metadata") or []
    config = {**config, "metadata": metadata, "built_in_metadata": built_in}
    config["enable_metadata"] = bool(metadata or built_in)
    return config


def _ext_columns(ext: dict | None) -> dict:
    unknown = sorted(set(ext or {}) - set(EXT_COLUMNS))
    if unknown:
        raise ArgumentError(
            f"ext may only set {', '.join(EXT_COLUMNS)}; remove the keys: {', '.join(unknown)}"
        )
    return dict(ext or {})


# ---- read ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetFilter:
    id: str | None = None
    ids: list[str] | None = None
    name: str | None = None
    page: int = 1
    page_size: int = 30
    orderby: str = "create_time"
    desc: bool = True
    chunk_method: str | None = None
    keywords: str | None = None
    owner_ids: list[str] | None = None


def list_datasets(*, user, tenant_id: str, filters: DatasetFilter) -> tuple[list[Dataset], int]:
    """Return one page of the datasets visible to the caller and the number of all matching ones."""
    visible = Dataset.objects.visible_to(user, tenant_id)

    if filters.id and filters.ids:
        raise DatasetAccessError(f"Should not provide both 'id':{filters.id} and 'ids'{filters.ids}")
    if filters.id and not visible.filter(pk=filters.id).exists():
        raise DatasetAccessError(lacks_permission_message(tenant_id, filters.id))
    if filters.name and not visible.filter(name=filters.name).exists():
        raise DatasetAccessError(lacks_permission_message(tenant_id, filters.name))

    matching = visible
    if filters.id:
        matching = matching.filter(pk=filters.id)
    if filters.ids is not None:
        matching = matching.filter(pk__in=filters.ids)
    if filters.name:
        matching = matching.filter(name=filters.name)
    if filters.chunk_method:
        matching = matching.filter(chunk_method=filters.chunk_method)
    if filters.keywords:
        matching = matching.filter(name__icontains=filters.keywords)
    if filters.owner_ids:
        matching = matching.filter(tenant_id__in=filters.owner_ids)

    total = matching.count()
    column = F(filters.orderby)
    order = [column.desc(nulls_last=True), F("pk").desc()] if filters.desc else [column.asc(nulls_first=True), F("pk").asc()]
    start = (filters.page - 1) * filters.page_size
    page = list(matching.select_related("tenant", "created_by").order_by(*order)[start : start + filters.page_size])
    return page, total


def get_dataset(*, user, tenant_id: str, dataset_id: str) -> Dataset:
    """Return a dataset the caller may read, or raise RAGFlow's lacks-permission error."""
    dataset = Dataset.objects.visible_to(user, tenant_id).filter(pk=dataset_id).first()
    if dataset is None:
        raise DatasetAccessError(lacks_permission_message(tenant_id, dataset_id))
    return dataset


# ---- update -------------------------------------------------------------------------------------


def update_dataset(*, tenant_id: str, dataset_id: str, changes: dict) -> Dataset:
    """Apply the keys of an update request that the client set, in RAGFlow's order of checks.

    ``changes`` holds only the keys present in the request; nested ``parser_config`` keys likewise.
    """
    if not changes:
        raise DatasetAccessError("no properties were modified")
    ext_columns = _ext_columns(changes.get("ext"))

    with transaction.atomic():
        dataset = Dataset.objects.for_tenant(tenant_id).select_for_update().filter(pk=dataset_id).first()
        if dataset is None:
            raise DatasetAccessError(lacks_permission_message(tenant_id, dataset_id))

        _apply_chunking_changes(dataset, changes)
        _apply_name_change(dataset, tenant_id, changes.get("name"))
        _apply_embedding_change(dataset, tenant_id, changes.get("embedding_model"))
        for field in ("avatar", "description", "permission", "pagerank", "language"):
            if field in changes:
                setattr(dataset, field, changes[field])
        for field, value in ext_columns.items():
            setattr(dataset, field, value)
        dataset.save()

    logger.info("Updated dataset %s of tenant %s: %s", dataset.pk, tenant_id, sorted(changes))
    return dataset


def _apply_chunking_changes(dataset: Dataset, changes: dict) -> None:
    given_config = changes.get("parser_config")
    if given_config:
        parent_child = given_config.get("parent_child") or {}
        if parent_child.get("use_parent_child"):
            given_config["children_delimiter"] = parent_child.get("children_delimiter", "\n")
            given_config["enable_children"] = True
        else:
            given_config["children_delimiter"] = ""
            given_config["enable_children"] = False
        dataset.parser_config = deep_merge(dataset.parser_config, given_config)

    new_method = changes.get("chunk_method")
    if new_method:
        if new_method != dataset.chunk_method and not given_config:
            dataset.parser_config = default_parser_config(new_method)
        dataset.chunk_method = new_method
        dataset.pipeline_id = None
    elif changes.get("pipeline_id"):
        dataset.pipeline_id = changes["pipeline_id"]

    if changes.get("auto_metadata_config") is not None:
        dataset.parser_config = _fold_auto_metadata(dataset.parser_config, changes["auto_metadata_config"])


def _apply_name_change(dataset: Dataset, tenant_id: str, name: str | None) -> None:
    if not name or name == dataset.name:
        return
    clash = Dataset.objects.for_tenant(tenant_id).filter(name__iexact=name).exclude(pk=dataset.pk).exists()
    if clash:
        raise DatasetNameConflictError(f"Dataset name '{name}' already exists")
    dataset.name = name


def _apply_embedding_change(dataset: Dataset, tenant_id: str, reference: str | None) -> None:
    if not reference:
        return
    tenant_model = model_registry.resolve_model(tenant_id, reference, ModelType.EMBEDDING)
    dataset.embedding_model = reference
    dataset.tenant_embd_id = tenant_model.pk


# ---- delete -------------------------------------------------------------------------------------


def delete_datasets(*, tenant_id: str, ids: list[str] | None, delete_all: bool = False) -> int:
    """Delete datasets owned by the tenant with their documents, files and chunks; return how many.

    Nothing is deleted unless ids are given or ``delete_all`` is true. Any id that the tenant does
    not own fails the whole request before anything is deleted.
    """
    if not ids and not delete_all:
        return 0

    with transaction.atomic():
        owned = Dataset.objects.for_tenant(tenant_id).select_for_update()
        if ids:
            owned = owned.filter(pk__in=ids)
        targets = list(owned.values_list("pk", flat=True))
        if ids:
            missing = [pk for pk in ids if pk not in set(targets)]
            if missing:
                raise DatasetAccessError(f"User '{tenant_id}' lacks permission for datasets: '{', '.join(missing)}'")

        document_hooks.delete_documents_of_datasets(targets)
        Dataset.objects.filter(pk__in=targets).delete()

    logger.info("Deleted %d datasets of tenant %s: %s", len(targets), tenant_id, targets)
    return len(targets)


# ---- model registry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelInfo:
    """A model to bind to a new provider instance."""

    model_types: tuple[str, ...]
    name: str
    max_tokens: int = 8192
    dimension: int | None = None


def add_provider(*, tenant_id: str, provider_name: str) -> ModelProvider:
    """Add a provider from the catalogue to the tenant."""
    model_registry.ensure_builtin_models(tenant_id)
    spec = catalogue.PROVIDERS.get(provider_name)
    if spec is None:
        supported = ", ".join(sorted(catalogue.PROVIDERS))
        raise ProviderError(f"Provider {provider_name} is not supported. Supported providers: {supported}")
    if ModelProvider.objects.for_tenant(tenant_id).filter(name=provider_name).exists():
        raise ProviderError(f"Provider {provider_name} already exists for this tenant.")
    try:
        with transaction.atomic():
            provider = ModelProvider.objects.create(tenant_id=tenant_id, name=provider_name, kind=spec.kind)
    except IntegrityError:
        raise ProviderError(f"Provider {provider_name} already exists for this tenant.") from None
    logger.info("Added provider %s (%s) to tenant %s", provider_name, provider.pk, tenant_id)
    return provider


def add_provider_instance(
    *,
    tenant_id: str,
    provider_name: str,
    instance_name: str,
    api_key: str = "",
    base_url: str = "",
    region: str = "default",
    models: list[ModelInfo] | None = None,
) -> ProviderInstance:
    """Add an account of a provider and bind its models: the given ones, else the catalogue's."""
    model_registry.ensure_builtin_models(tenant_id)
    provider = ModelProvider.objects.for_tenant(tenant_id).filter(name=provider_name).first()
    if provider is None:
        raise ProviderError(f"Provider {provider_name} not found. Add it with PUT /api/v1/providers first.")
    if provider.name == catalogue.BUILTIN_PROVIDER:
        raise ProviderError(f"Provider {provider_name} runs its models inside this server and takes no instances.")
    if instance_name == catalogue.DEFAULT_INSTANCE:
        raise ProviderError(f"Instance name cannot be '{catalogue.DEFAULT_INSTANCE}'.")
    if provider.instances.filter(name=instance_name).exists():
        raise ProviderError(f"Instance {instance_name} already exists for provider {provider_name}.")

    spec = catalogue.PROVIDERS[provider.name]
    if models is None:
        models = [ModelInfo((m.model_type,), m.name, m.max_tokens, m.dimension) for m in spec.models]
    try:
        with transaction.atomic():
            instance = ProviderInstance.objects.create(
                provider=provider,
                name=instance_name,
                api_key=api_key,
                base_url=base_url or spec.default_base_url,
                region=region or "default",
            )
            for rank, model in enumerate(models):
                for model_type in model.model_types:
                    TenantModel.objects.get_or_create(
                        tenant_id=tenant_id,
                        instance=instance,
                        model_type=model_type,
                        name=model.name,
                        defaults={"max_tokens": model.max_tokens, "dimension": model.dimension, "rank": rank},
                    )
    except IntegrityError:
        raise ProviderError(f"Instance {instance_name} already exists for provider {provider_name}.") from None
    logger.info(
        "Added instance %s (%s) of provider %s to tenant %s with %d models",
        instance_name, instance.pk, provider_name, tenant_id, len(models),
    )
    return instance


def set_default_model(*, tenant_id: str, model_type: str, reference: str) -> str:
    """Make a model the tenant's default of its type; return the stored ``model@instance@provider``."""
    tenant_model = model_registry.resolve_model(tenant_id, reference, model_type)
    composite = tenant_model.composite_name
    field = model_registry.DEFAULT_MODEL_FIELDS[model_type]
    Tenant.objects.filter(pk=tenant_id).update(**{field: composite})
    logger.info("Set default %s model of tenant %s to %s", model_type, tenant_id, composite)
    return composite
