"""Admin pages of knowledge-graph rows; the index job writes them, so they are read-only here."""

from django.contrib import admin

from knowledgebases.graph_models import GraphAlias, GraphCommunity, GraphDocument, GraphEntity, GraphMention, GraphRelation


class ReadOnlyGraphAdmin(admin.ModelAdmin):
    """Rows derived from mentions: editing one by hand would be undone by the next index run."""

    list_select_related = ("dataset",)
    raw_id_fields = ("dataset",)
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(GraphEntity)
class GraphEntityAdmin(ReadOnlyGraphAdmin):
    list_display = ("name", "entity_type", "dataset", "pagerank", "rank", "stale")
    list_filter = ("entity_type", "stale")
    search_fields = ("name", "key", "dataset__id")
    exclude = ("embedding",)


@admin.register(GraphRelation)
class GraphRelationAdmin(ReadOnlyGraphAdmin):
    list_display = ("source_name", "target_name", "dataset", "weight", "stale")
    search_fields = ("source_key", "target_key", "dataset__id")
    exclude = ("embedding",)


@admin.register(GraphCommunity)
class GraphCommunityAdmin(ReadOnlyGraphAdmin):
    list_display = ("title", "dataset", "rating", "weight")
    search_fields = ("title", "dataset__id")
    exclude = ("embedding",)


@admin.register(GraphMention)
class GraphMentionAdmin(ReadOnlyGraphAdmin):
    list_display = ("kind", "name", "target", "document", "dataset")
    list_filter = ("kind",)
    list_select_related = ("dataset", "document")
    raw_id_fields = ("dataset", "document")
    search_fields = ("key", "document__id", "dataset__id")


@admin.register(GraphAlias)
class GraphAliasAdmin(ReadOnlyGraphAdmin):
    list_display = ("alias_key", "canonical_key", "dataset")
    search_fields = ("alias_key", "canonical_key", "dataset__id")


@admin.register(GraphDocument)
class GraphDocumentAdmin(ReadOnlyGraphAdmin):
    list_display = ("document", "dataset", "chunk_count", "update_date")
    list_select_related = ("dataset", "document")
    raw_id_fields = ("dataset", "document")
