from django.urls import re_path

from documents.api import chunk_views, views

urlpatterns = [
    re_path(
        r"^datasets/(?P<dataset_id>[^/]+)/documents/?$",
        views.DatasetDocumentsView.as_view(),
        name="dataset-documents",
    ),
    re_path(
        r"^datasets/(?P<dataset_id>[^/]+)/documents/(?P<document_id>[^/]+)/?$",
        views.DocumentView.as_view(),
        name="dataset-document",
    ),
    re_path(
        r"^datasets/(?P<dataset_id>[^/]+)/documents/(?P<document_id>[^/]+)/chunks/?$",
        chunk_views.DocumentChunksView.as_view(),
        name="document-chunks",
    ),
    re_path(
        r"^datasets/(?P<dataset_id>[^/]+)/documents/(?P<document_id>[^/]+)/chunks/(?P<chunk_id>[^/]+)/?$",
        chunk_views.DocumentChunkView.as_view(),
        name="document-chunk",
    ),
    re_path(r"^file/?$", views.FileUploadAliasView.as_view(), name="file-upload-alias"),
]
