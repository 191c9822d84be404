import logging
import re

from django.db import migrations

logger = logging.getLogger(__name__)

# Every per-dimension vector index that chunk_store.vector_index_name names.
VECTOR_INDEX_NAME = re.compile(r"^documents_chunk_embedding_\d+_hnsw$")
# The graph options of chunk_store.HNSW_BUILD_OPTIONS when this migration was written; literal here
# so that a later change of those options does not change what this migration did.
DENSER_M = 24
DENSER_EF_CONSTRUCTION = 128
# pgvector's defaults, which indexes made before this migration were built with.
PREVIOUS_M = 16
PREVIOUS_EF_CONSTRUCTION = 64


def _rebuild_vector_indexes(schema_editor, m: int, ef_construction: int) -> None:
    """Give every chunk vector index the graph options and rebuild its graph with them.

    The options of an HNSW index apply when its graph is built, so each index is rebuilt, and chunk
    writes wait until the build ends. The latency benchmark built the graph of 100,000 chunks in
    32 s on 2 cores with 4 GB of maintenance_work_mem. With less memory the build takes longer.
    """
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'documents_chunk'"
        )
        names = sorted(name for (name,) in cursor.fetchall() if VECTOR_INDEX_NAME.match(name))
        for name in names:
            logger.info("Rebuilding the vector index %s with m = %d, ef_construction = %d", name, m, ef_construction)
            quoted = schema_editor.quote_name(name)
            cursor.execute(f"ALTER INDEX {quoted} SET (m = {int(m)}, ef_construction = {int(ef_construction)})")
            cursor.execute(f"REINDEX INDEX {quoted}")


def denser_graphs(apps, schema_editor):
    _rebuild_vector_indexes(schema_editor, DENSER_M, DENSER_EF_CONSTRUCTION)


def default_graphs(apps, schema_editor):
    _rebuild_vector_indexes(schema_editor, PREVIOUS_M, PREVIOUS_EF_CONSTRUCTION)


class Migration(migrations.Migration):
    dependencies = [("documents", "0006_chunk_inline_search_columns")]

    operations = [migrations.RunPython(denser_graphs, default_graphs)]
