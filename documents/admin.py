from django.contrib import admin, messages
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html

from documents import services
from documents.choices import RunStatus
from documents.models import Chunk, Document

# Characters of the last progress line shown in the list; the full log is on the change page.
PROGRESS_MESSAGE_PREVIEW_CHARS = 80


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    """Documents with their parsing state; rows change only through the document and task services."""

    list_display = ["name", "dataset", "owner", "human_size", "type", "run", "progress_bar", "last_progress_message", "create_date"]
    list_filter = ["run", "type", "status"]
    search_fields = ["name", "id"]
    list_select_related = ["dataset", "created_by"]
    autocomplete_fields = ["dataset"]
    raw_id_fields = ["created_by"]
    # Skip the COUNT(*) of the whole table that filtered list pages would otherwise run.
    show_full_result_count = False
    actions = ["start_parsing", "stop_parsing", "delete_documents"]
    # Every field is read-only: edits must go through the services, which keep counters and chunks right.
    readonly_fields = [
        "id", "name", "dataset", "created_by", "status", "chunk_method", "pipeline_id", "parser_config",
        "meta_fields", "location", "size", "type", "suffix", "content_hash", "source_type", "thumbnail",
        "chunk_num", "token_num", "progress", "progress_msg", "process_begin_at", "process_duration", "run",
        "create_time", "create_date", "update_date",
    ]

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Deleting rows directly would leave stored files, chunks and dataset counters behind.
        actions.pop("delete_selected", None)
        return actions

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # The single-object delete page deletes the row directly; the action below goes through the service.
        return False if obj is not None else super().has_delete_permission(request)

    @admin.display(description="Owner", ordering="created_by__email")
    def owner(self, document):
        return document.created_by.email

    @admin.display(description="Size", ordering="size")
    def human_size(self, document):
        return filesizeformat(document.size)

    @admin.display(description="Progress")
    def progress_bar(self, document):
        percent = max(0, min(100, round(document.progress * 100)))
        failed = document.run == RunStatus.FAIL or document.progress < 0
        return format_html(
            '<progress max="100" value="{}" title="{}%"></progress> {}%{}',
            percent,
            percent,
            percent,
            " (failed)" if failed else "",
        )

    @admin.display(description="Last progress message")
    def last_progress_message(self, document):
        lines = [line for line in (document.progress_msg or "").splitlines() if line.strip()]
        if not lines:
            return ""
        last = lines[-1]
        return last if len(last) <= PROGRESS_MESSAGE_PREVIEW_CHARS else last[:PROGRESS_MESSAGE_PREVIEW_CHARS] + "…"

    @admin.action(description="Parse the selected documents again from the start", permissions=["change"])
    def start_parsing(self, request, queryset):
        from tasks.services import queue_documents

        started = 0
        by_dataset: dict = {}
        for document in queryset.select_related("dataset"):
            by_dataset.setdefault(document.dataset, []).append(document.id)
        for dataset, document_ids in by_dataset.items():
            started += queue_documents(dataset=dataset, document_ids=document_ids, reject_running=False).success_count
        self.message_user(request, f"Queued {started} document(s) for parsing.", level=messages.SUCCESS)

    @admin.action(description="Stop parsing the selected documents", permissions=["change"])
    def stop_parsing(self, request, queryset):
        stopped = services.stop_parsing(list(queryset.values_list("id", flat=True)))
        self.message_user(request, f"Stopped parsing of {stopped} document(s); documents that were not running are unchanged.")

    @admin.action(description="Delete the selected documents with their files and chunks", permissions=["delete"])
    def delete_documents(self, request, queryset):
        deleted = services.delete_documents_by_ids(list(queryset.values_list("id", flat=True)))
        self.message_user(request, f"Deleted {deleted} document(s).", level=messages.SUCCESS)


@admin.register(Chunk)
class ChunkAdmin(admin.ModelAdmin):
    """Chunks, read-only; the text is shown escaped, never rendered as HTML."""

    list_display = ["id", "document", "position", "token_count", "available", "kind", "embedding_dimension"]
    list_filter = ["available", "kind", "doc_type"]
    search_fields = ["id", "document__id", "document__name"]
    list_select_related = ["document"]
    raw_id_fields = ["dataset", "document", "task"]
    show_full_result_count = False
    exclude = ["embedding", "search_vector"]
    readonly_fields = [
        "id", "dataset", "document", "task", "position", "content", "content_tokens", "embedding_dimension",
        "token_count", "page_numbers", "positions", "important_keywords", "questions", "tags", "doc_type", "kind",
        "available", "create_time", "create_date",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
