from django.contrib import admin

from tasks.models import Task


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    """Task rows are written by the pipeline only, so the admin shows them read-only."""

    list_display = ["id", "document", "task_type", "status", "from_page", "to_page", "progress", "attempts", "worker_name", "create_date"]
    list_filter = ["status", "task_type"]
    search_fields = ["id", "document__id", "document__name", "dataset__id"]
    list_select_related = ["document"]
    raw_id_fields = ["dataset", "document"]
    show_full_result_count = False
    readonly_fields = [field.name for field in Task._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
