from django.apps import AppConfig


class KnowledgebasesConfig(AppConfig):
    name = "knowledgebases"
    verbose_name = "Knowledge bases"
