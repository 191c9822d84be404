from django.urls import re_path

from knowledgebases.api import index_views as views

# Every pattern accepts an optional trailing slash, as RAGFlow's routes do.
urlpatterns = [
    re_path(r"^datasets/(?P<dataset_id>[^/]+)/index/?$", views.DatasetIndexView.as_view(), name="dataset-index"),
    re_path(r"^datasets/(?P<dataset_id>[^/]+)/graph/?$", views.DatasetGraphView.as_view(), name="dataset-graph"),
    re_path(r"^datasets/(?P<dataset_id>[^/]+)/raptor/?$", views.DatasetRaptorView.as_view(), name="dataset-raptor"),
    re_path(
        r"^datasets/(?P<dataset_id>[^/]+)/knowledge_graph/?$",
        views.DatasetGraphView.as_view(),
        name="dataset-knowledge-graph",
    ),
    re_path(
        r"^datasets/(?P<dataset_id>[^/]+)/run_graphrag/?$",
        views.RunIndexAliasView.as_view(index_type="graph"),
        name="dataset-run-graphrag",
    ),
    re_path(
        r"^datasets/(?P<dataset_id>[^/]+)/trace_graphrag/?$",
        views.TraceIndexAliasView.as_view(index_type="graph"),
        name="dataset-trace-graphrag",
    ),
    re_path(
        r"^datasets/(?P<dataset_id>[^/]+)/run_raptor/?$",
        views.RunIndexAliasView.as_view(index_type="raptor"),
        name="dataset-run-raptor",
    ),
    re_path(
        r"^datasets/(?P<dataset_id>[^/]+)/trace_raptor/?$",
        views.TraceIndexAliasView.as_view(index_type="raptor"),
        name="dataset-trace-raptor",
    ),
]
