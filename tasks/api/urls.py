from django.urls import re_path

from tasks.api import views

# Listed before the documents routes so that "parse" and "stop" are not taken for document ids.
urlpatterns = [
    re_path(r"^datasets/(?P<dataset_id>[^/]+)/chunks/?$", views.DatasetChunksParseView.as_view(), name="dataset-parse"),
    re_path(
        r"^datasets/(?P<dataset_id>[^/]+)/documents/parse/?$", views.DocumentsParseView.as_view(), name="documents-parse"
    ),
    re_path(
        r"^datasets/(?P<dataset_id>[^/]+)/documents/stop/?$", views.DocumentsStopView.as_view(), name="documents-stop"
    ),
    re_path(r"^tasks/(?P<task_id>[^/]+)/cancel/?$", views.TaskCancelView.as_view(), name="task-cancel"),
    re_path(r"^tasks/(?P<task_id>[^/]+)/?$", views.TaskDetailView.as_view(), name="task-detail"),
]
