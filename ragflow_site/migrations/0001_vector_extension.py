from django.db import migrations
from pgvector.django import VectorExtension


class Migration(migrations.Migration):
    """Create pgvector's ``vector`` extension, which chunk embeddings need."""

    initial = True
    dependencies = []
    operations = [VectorExtension()]
