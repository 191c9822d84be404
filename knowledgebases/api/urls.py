from django.urls import re_path

from knowledgebases.api import retrieval_views, views

# Every pattern accepts an optional trailing slash, as RAGFlow's routes do.
urlpatterns = [
    re_path(r"^datasets/?$", views.DatasetListView.as_view(), name="dataset-list"),
    re_path(r"^datasets/(?P<dataset_id>[^/]+)/?$", views.DatasetDetailView.as_view(), name="dataset-detail"),
    re_path(r"^retrieval/?$", retrieval_views.RetrievalView.as_view(), name="retrieval"),
    re_path(r"^kb/?$", views.KnowledgeBaseListView.as_view(), name="kb-list"),
    re_path(r"^models/?$", views.ModelListView.as_view(), name="model-list"),
    re_path(r"^models/default/?$", views.DefaultModelView.as_view(), name="model-default"),
    re_path(r"^providers/?$", views.ProviderView.as_view(), name="provider-list"),
    re_path(
        r"^providers/(?P<provider_name>[^/]+)/instances/?$",
        views.ProviderInstanceView.as_view(),
        name="provider-instance-list",
    ),
]
