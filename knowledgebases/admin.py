import logging

from django.contrib import admin, messages

from knowledgebases import services
from knowledgebases.models import Dataset, ModelProvider, ProviderInstance, TenantModel

logger = logging.getLogger(__name__)


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "id",
        "tenant",
        "chunk_method",
        "embedding_model",
        "permission",
        "doc_num",
        "chunk_num",
        "token_num",
        "status",
        "create_date",
    )
    list_filter = ("chunk_method", "permission", "status", "embedding_model")
    list_select_related = ("tenant",)
    search_fields = ("name", "id", "tenant__name", "tenant__id")
    raw_id_fields = ("tenant", "created_by")
    # Counters and index task columns are written by the ingestion pipeline.
    readonly_fields = ("id", "doc_num", "chunk_num", "token_num", "tenant_embd_id", "create_time", "update_time")
    show_full_result_count = False
    actions = ["delete_with_contents"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        # The stock bulk delete would skip the documents, files and chunks of each dataset.
        actions.pop("delete_selected", None)
        return actions

    def delete_model(self, request, obj):
        services.delete_datasets(tenant_id=obj.tenant_id, ids=[obj.pk])

    def delete_queryset(self, request, queryset):
        self._delete(queryset)

    @admin.action(description="Delete the selected datasets with their documents and chunks", permissions=["delete"])
    def delete_with_contents(self, request, queryset):
        count = self._delete(queryset)
        self.message_user(request, f"Deleted {count} datasets.", messages.SUCCESS)

    def _delete(self, queryset) -> int:
        count = 0
        by_tenant: dict[str, list[str]] = {}
        for tenant_id, dataset_id in queryset.values_list("tenant_id", "id"):
            by_tenant.setdefault(tenant_id, []).append(dataset_id)
        for tenant_id, ids in by_tenant.items():
            count += services.delete_datasets(tenant_id=tenant_id, ids=ids)
        logger.info("Admin deleted %d datasets", count)
        return count


class ProviderInstanceInline(admin.TabularInline):
    model = ProviderInstance
    extra = 0
    # The API key is write-only: the admin shows neither the stored value nor a field to edit it.
    exclude = ("api_key",)
    show_change_link = True


@admin.register(ModelProvider)
class ModelProviderAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "tenant", "create_date")
    list_filter = ("kind", "name")
    list_select_related = ("tenant",)
    search_fields = ("name", "tenant__name", "tenant__id")
    raw_id_fields = ("tenant",)
    inlines = [ProviderInstanceInline]


@admin.register(ProviderInstance)
class ProviderInstanceAdmin(admin.ModelAdmin):
    list_display = ("name", "provider", "base_url", "region", "is_active")
    list_filter = ("is_active", "provider__name")
    list_select_related = ("provider",)
    search_fields = ("name", "provider__name", "provider__tenant__id")
    raw_id_fields = ("provider",)
    exclude = ("api_key",)


@admin.register(TenantModel)
class TenantModelAdmin(admin.ModelAdmin):
    list_display = ("name", "model_type", "instance", "tenant", "max_tokens", "dimension")
    list_filter = ("model_type", "instance__provider__name")
    list_select_related = ("instance__provider", "tenant")
    search_fields = ("name", "id", "tenant__id")
    raw_id_fields = ("tenant", "instance")


# Registers the knowledge-graph admin pages, which live beside their models.
from knowledgebases import graph_admin  # noqa: E402, F401
