from django.db import migrations

from documents.chunk_store import create_vector_index_sql, drop_vector_index_sql


class Migration(migrations.Migration):
    """HNSW index for 384-dimension vectors, the size of the built-in embedding model.

    Other sizes get their index when the first chunk of that size is stored.
    """

    dependencies = [("documents", "0003_chunk_task_and_indexes")]

    operations = [migrations.RunSQL(create_vector_index_sql(384), drop_vector_index_sql(384))]
