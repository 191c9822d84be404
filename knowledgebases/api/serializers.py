"""API representations of datasets and registry models, with RAGFlow's key names."""

from knowledgebases.models import INDEX_TASK_KINDS, Dataset, TenantModel
from ragflow_site.api.formatting import rfc1123

# Columns returned as they are; renamed and computed keys are added by ``dataset_data``.
PLAIN_FIELDS = (
    "id",
    "name",
    "avatar",
    "description",
    "tenant_id",
    "created_by_id",
    "language",
    "embedding_model",
    "tenant_embd_id",
    "permission",
    "token_num",
    "similarity_threshold",
    "vector_similarity_weight",
    "chunk_method",
    "pipeline_id",
    "parser_config",
    "pagerank",
    "status",
    "create_time",
    "update_time",
)


def dataset_data(dataset: Dataset) -> dict:
    """Return the dataset object of RAGFlow's API (its ``knowledgebase`` row with renamed keys)."""
    data = {field.removesuffix("_id") if field == "created_by_id" else field: getattr(dataset, field) for field in PLAIN_FIELDS}
    data["document_count"] = dataset.doc_num
    data["chunk_count"] = dataset.chunk_num
    data["create_date"] = rfc1123(dataset.create_date)
    data["update_date"] = rfc1123(dataset.update_date)
    for kind in INDEX_TASK_KINDS:
        data[f"{kind}_task_id"] = getattr(dataset, f"{kind}_task_id")
        finished = getattr(dataset, f"{kind}_task_finish_at")
        data[f"{kind}_task_finish_at"] = rfc1123(finished)
    return data


def listed_dataset_data(dataset: Dataset, *, embedding_model_name: str, parsing_status: dict | None) -> dict:
    """Return a dataset as the list shows it: with its owner's nickname and avatar."""
    data = dataset_data(dataset)
    owner = dataset.created_by
    data["nickname"] = owner.nickname
    data["tenant_avatar"] = owner.avatar
    data["embedding_model_name"] = embedding_model_name
    if parsing_status is not None:
        data["parsing_status"] = parsing_status
    return data


def tenant_model_data(model: TenantModel) -> dict:
    instance = model.instance
    return {
        "model_id": model.pk,
        "tenant_id": model.tenant_id,
        "tenant_name": model.tenant.name,
        "model_type": model.model_type,
        "name": model.name,
        "provider_id": instance.provider_id,
        "provider_name": instance.provider.name,
        "instance_id": instance.pk,
        "instance_name": instance.name,
        "max_tokens": model.max_tokens,
        "rank": model.rank,
    }
