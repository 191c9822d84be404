from django.db import migrations, models

# ANALYZE keeps the 10 x target most common lexemes of a tsvector column with their frequencies.
# Retrieval reads them as document frequencies for IDF weights (documents.fulltext.lexeme_idf), so
# 1,000 (10,000 lexemes) covers the common vocabulary of a large corpus; the default of 100 keeps
# only 1,000 lexemes, which leaves most query words with the same weight.
TERM_STATISTICS_TARGET = 1000


class Migration(migrations.Migration):
    dependencies = [("documents", "0004_chunk_embedding_hnsw_384")]

    operations = [
        migrations.AddField(
            model_name="chunk",
            name="tag_features",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunSQL(
            f"ALTER TABLE documents_chunk ALTER COLUMN search_vector SET STATISTICS {TERM_STATISTICS_TARGET}",
            "ALTER TABLE documents_chunk ALTER COLUMN search_vector SET STATISTICS -1",
        ),
    ]
