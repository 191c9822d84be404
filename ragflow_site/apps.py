from django.apps import AppConfig


class RagflowSiteConfig(AppConfig):
    name = "ragflow_site"
    verbose_name = "RAGFlow site"
