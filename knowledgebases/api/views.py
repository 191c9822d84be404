"""Dataset endpoints (``/datasets``, ``/kb``) and model-registry endpoints (``/models``, ``/providers``)."""

from pydantic import ValidationError
from rest_framework.views import APIView

from accounts.authentication import tenant_id_of
from accounts.models import Tenant
from knowledgebases import document_hooks, model_registry, services
from knowledgebases.api.schemas import (
    AddInstanceRequest,
    CreateDatasetRequest,
    DeleteDatasetsRequest,
    ListDatasetsQuery,
    SetDefaultModelRequest,
    UpdateDatasetRequest,
    to_hex_id,
)
from knowledgebases.api.serializers import dataset_data, listed_dataset_data, tenant_model_data
from knowledgebases.choices import ModelType
from ragflow_site.api.responses import result
from ragflow_site.api.validation import format_validation_error, parse_body, read_lenient_json
from ragflow_site.exceptions import ArgumentError

# Query keys that may repeat; all others keep their first value.
LIST_QUERY_KEYS = ("ids",)


def _validate(model, payload):
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise ArgumentError(format_validation_error(error)) from None


def _require_object(payload) -> dict:
    if not isinstance(payload, dict):
        raise ArgumentError(f"Invalid request payload: expected object, got {type(payload).__name__}")
    return payload


class DatasetListView(APIView):
    """``POST|GET|DELETE /datasets``: create, list and batch-delete datasets."""

    def post(self, request):
        body = parse_body(request, CreateDatasetRequest)
        dataset = services.create_dataset(
            tenant_id=tenant_id_of(request),
            user=request.user,
            name=body.name,
            avatar=body.avatar,
            description=body.description,
            embedding_model=body.embedding_model or None,
            permission=body.permission,
            chunk_method=body.chosen_chunk_method(),
            parser_config=body.parser_config.model_dump() if body.parser_config else None,
            pipeline_id=body.pipeline_id,
            auto_metadata_config=body.auto_metadata_config.model_dump() if body.auto_metadata_config else None,
            ext=body.ext,
        )
        return result(dataset_data(dataset))

    def get(self, request):
        return list_datasets_response(request)

    def delete(self, request):
        body = parse_body(request, DeleteDatasetsRequest)
        count = services.delete_datasets(tenant_id=tenant_id_of(request), ids=body.ids, delete_all=body.delete_all)
        return result({"success_count": count})


def list_datasets_response(request):
    """Render one page of the caller's visible datasets; shared by ``GET /datasets`` and ``GET /kb``."""
    params = {key: request.GET.getlist(key) if key in LIST_QUERY_KEYS else request.GET.get(key) for key in request.GET}
    query = _validate(ListDatasetsQuery, params)
    filters = services.DatasetFilter(
        id=query.id,
        ids=query.ids,
        name=query.name or None,
        page=query.page,
        page_size=query.page_size,
        orderby=query.orderby,
        desc=query.desc,
        chunk_method=query.ext.get("parser_id"),
        keywords=query.ext.get("keywords"),
        owner_ids=query.ext.get("owner_ids"),
    )
    datasets, total = services.list_datasets(user=request.user, tenant_id=tenant_id_of(request), filters=filters)

    names = model_registry.composite_names(
        d.embedding_model for d in datasets if model_registry.HEX_ID.match(d.embedding_model)
    )
    statuses = document_hooks.parsing_status_of_datasets([d.pk for d in datasets]) if query.include_parsing_status else {}
    data = [
        listed_dataset_data(
            dataset,
            embedding_model_name=names.get(dataset.embedding_model, ""),
            parsing_status=statuses.get(dataset.pk) if query.include_parsing_status else None,
        )
        for dataset in datasets
    ]
    return result(data, total_datasets=total)


class KnowledgeBaseListView(APIView):
    """``GET /kb``: the older name of the dataset list."""

    def get(self, request):
        return list_datasets_response(request)


class DatasetDetailView(APIView):
    """``GET|PUT /datasets/<dataset_id>``: read or change one dataset."""

    def get(self, request, dataset_id: str):
        dataset = services.get_dataset(user=request.user, tenant_id=tenant_id_of(request), dataset_id=dataset_id)
        data = dataset_data(dataset)
        data["size"] = document_hooks.document_size_of_dataset(dataset.pk)
        data["connectors"] = []
        return result(data)

    def put(self, request, dataset_id: str):
        body = parse_body(request, UpdateDatasetRequest)
        try:
            dataset_id = to_hex_id(dataset_id)
        except ValueError:
            raise ArgumentError(f"Field: <dataset_id> - Message: <Invalid UUID format> - Value: <{dataset_id}>") from None
        if body.connectors:
            # NOTE: data-source connectors are not implemented, so a request that sets them fails.
            raise ArgumentError("Data source connectors are not supported by this server; send connectors: [].")
        changes = body.model_dump(exclude_unset=True)
        dataset = services.update_dataset(tenant_id=tenant_id_of(request), dataset_id=dataset_id, changes=changes)
        data = dataset_data(dataset)
        data["connectors"] = []
        return result(data)


class ModelListView(APIView):
    """``GET /models[?type=]``: the models the tenant can use."""

    def get(self, request):
        model_type = request.GET.get("type") or None
        if model_type is not None and model_type not in ModelType.values:
            raise ArgumentError(f"Invalid model type '{model_type}'. Valid types: {', '.join(ModelType.values)}")
        models = model_registry.list_models(tenant_id_of(request), model_type)
        return result([tenant_model_data(model) for model in models])


class ProviderView(APIView):
    """``PUT /providers``: add a provider from the catalogue to the tenant."""

    def put(self, request):
        payload = _require_object(read_lenient_json(request))
        provider_name = payload.get("provider_name")
        if not provider_name or not isinstance(provider_name, str):
            raise ArgumentError("provider_name is required")
        services.add_provider(tenant_id=tenant_id_of(request), provider_name=provider_name.strip())
        return result()


class ProviderInstanceView(APIView):
    """``POST /providers/<provider_name>/instances``: add an account of a provider and bind its models."""

    def post(self, request, provider_name: str):
        body = _validate(AddInstanceRequest, _require_object(read_lenient_json(request)))
        models = None
        if body.model_info is not None:
            models = [
                services.ModelInfo(
                    model_types=tuple(item.model_type if isinstance(item.model_type, list) else [item.model_type]),
                    name=item.model_name,
                    max_tokens=item.max_tokens,
                    dimension=item.dimension,
                )
                for item in body.model_info
            ]
        services.add_provider_instance(
            tenant_id=tenant_id_of(request),
            provider_name=provider_name,
            instance_name=body.instance_name,
            api_key=body.api_key,
            base_url=body.base_url or "",
            region=body.region,
            models=models,
        )
        return result()


class DefaultModelView(APIView):
    """``GET|PATCH /models/default``: the tenant's default model of each type."""

    def get(self, request):
        tenant_id = tenant_id_of(request)
        tenant = Tenant.objects.get(pk=tenant_id)
        defaults = []
        for model_type in model_registry.DEFAULT_MODEL_FIELDS:
            reference = model_registry.default_reference(tenant, model_type)
            if not reference:
                continue
            parsed = model_registry.parse_reference(reference)
            defaults.append(
                {
                    "model_type": model_type,
                    "model_name": parsed.model,
                    "model_instance": parsed.instance or "default",
                    "model_provider": parsed.provider,
                    "model_reference": reference,
                }
            )
        return result(defaults)

    def patch(self, request):
        body = _validate(SetDefaultModelRequest, _require_object(read_lenient_json(request)))
        services.set_default_model(
            tenant_id=tenant_id_of(request), model_type=body.model_type, reference=body.reference()
        )
        return result()
