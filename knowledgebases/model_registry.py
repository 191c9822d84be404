"""Read side of the model registry: list a tenant's models and resolve model references.

A reference is ``model``, ``model@provider`` or ``model@instance@provider`` (split from the right,
so model names may contain ``@``), or the 32-hex id of a tenant model. ``model@provider`` names the
instance ``default`` and falls back to the provider's only active instance.
"""

import logging
import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from accounts.models import Tenant
from knowledgebases import catalogue
from knowledgebases.choices import ModelType
from knowledgebases.exceptions import ModelNotFoundError
from knowledgebases.models import ModelProvider, ProviderInstance, TenantModel

logger = logging.getLogger(__name__)

HEX_ID = re.compile(r"^[0-9a-f]{32}$")

# Tenant column that stores the default model of each model type.
DEFAULT_MODEL_FIELDS = {
    ModelType.CHAT: "llm_id",
    ModelType.EMBEDDING: "embd_id",
    ModelType.RERANK: "rerank_id",
    ModelType.IMAGE2TEXT: "img2txt_id",
    ModelType.SPEECH2TEXT: "asr_id",
    ModelType.TTS: "tts_id",
}


@dataclass(frozen=True)
class ModelReference:
    model: str
    instance: str | None
    provider: str | None


def parse_reference(reference: str) -> ModelReference:
    """Split a model reference from the right into model, instance and provider."""
    parts = reference.rsplit("@", 2)
    if len(parts) == 3:
        return ModelReference(model=parts[0], instance=parts[1], provider=parts[2])
    if len(parts) == 2:
        return ModelReference(model=parts[0], instance=None, provider=parts[1])
    return ModelReference(model=parts[0], instance=None, provider=None)


def ensure_builtin_models(tenant_id: str) -> None:
    """Create the built-in provider, its ``default`` instance and its models for a tenant if missing."""
    spec = catalogue.PROVIDERS[catalogue.BUILTIN_PROVIDER]
    if TenantModel.objects.filter(
        tenant_id=tenant_id, instance__provider__name=catalogue.BUILTIN_PROVIDER
    ).count() >= len(spec.models):
        return
    try:
        with transaction.atomic():
            provider, _ = ModelProvider.objects.get_or_create(
                tenant_id=tenant_id, name=catalogue.BUILTIN_PROVIDER, defaults={"kind": spec.kind}
            )
            instance, _ = ProviderInstance.objects.get_or_create(provider=provider, name=catalogue.DEFAULT_INSTANCE)
            for model in spec.models:
                TenantModel.objects.get_or_create(
                    tenant_id=tenant_id,
                    instance=instance,
                    model_type=model.model_type,
                    name=model.name,
                    defaults={"max_tokens": model.max_tokens, "dimension": model.dimension},
                )
    except IntegrityError:
        # A concurrent request created the same rows first; they are what this call wanted.
        logger.info("Built-in models of tenant %s were created concurrently", tenant_id)
        return
    logger.info("Registered the built-in models for tenant %s", tenant_id)


def list_models(tenant_id: str, model_type: str | None = None):
    ensure_builtin_models(tenant_id)
    models = TenantModel.objects.for_tenant(tenant_id).select_related("tenant")
    if model_type:
        models = models.filter(model_type=model_type)
    return models.order_by("instance__provider__name", "instance__name", "model_type", "name")


def resolve_model(tenant_id: str, reference: str, model_type: str) -> TenantModel:
    """Return the tenant model a reference names, or raise ModelNotFoundError with RAGFlow's text."""
    ensure_builtin_models(tenant_id)
    models = TenantModel.objects.for_tenant(tenant_id).filter(model_type=model_type)

    if HEX_ID.match(reference):
        found = models.filter(pk=reference).first()
        if found is not None:
            return found

    parsed = parse_reference(reference)
    if parsed.provider is None:
        found = models.filter(name=parsed.model).order_by("rank", "create_time").first()
        if found is None:
            raise ModelNotFoundError(f"Model {reference} not found for model {model_type}")
        return found

    provider = ModelProvider.objects.for_tenant(tenant_id).filter(name=parsed.provider).first()
    if provider is None:
        raise ModelNotFoundError(f"Provider {parsed.provider} not found for model {reference}.")
    instance = _find_instance(provider, parsed.instance)
    if instance is None:
        raise ModelNotFoundError(f"Instance {parsed.instance or catalogue.DEFAULT_INSTANCE} not found for model {reference}.")
    found = models.filter(instance=instance, name=parsed.model).first()
    if found is None:
        raise ModelNotFoundError(f"Model {reference} not found for model {model_type}")
    return found


def _find_instance(provider: ModelProvider, name: str | None) -> ProviderInstance | None:
    active = provider.instances.filter(is_active=True)
    if name is not None:
        return active.filter(name=name).first()
    named_default = active.filter(name=catalogue.DEFAULT_INSTANCE).first()
    if named_default is not None:
        return named_default
    only = list(active[:2])
    return only[0] if len(only) == 1 else None


def default_reference(tenant: Tenant, model_type: str) -> str:
    """Return the tenant's default model reference of a type; embedding falls back to the built-in model."""
    value = getattr(tenant, DEFAULT_MODEL_FIELDS[model_type])
    if not value and model_type == ModelType.EMBEDDING:
        return catalogue.DEFAULT_EMBEDDING_MODEL
    return value


def composite_names(tenant_model_ids) -> dict[str, str]:
    """Map tenant-model ids to their ``model@instance@provider`` names."""
    rows = TenantModel.objects.filter(pk__in=[pk for pk in tenant_model_ids if pk]).select_related("instance__provider")
    return {row.pk: row.composite_name for row in rows}
