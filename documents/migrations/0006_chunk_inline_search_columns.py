from django.db import migrations

# Retrieval reads the vector and the tsvector of about two thousand candidate rows per request and
# the text of thirty. With PostgreSQL's defaults, a row over 2 kB moves its largest values to the
# TOAST table, so each candidate costs extra index lookups and page reads for both search columns.
# Storage MAIN keeps the two search columns in the row, and a tuple target of 4,080 bytes (half a
# page) leaves room for a 384-float vector (1.5 kB) and a typical tsvector (about 2 kB), while the
# text columns still move out when the row is too large. Existing rows keep their layout until
# they are written again.
TOAST_TUPLE_TARGET = 4080


class Migration(migrations.Migration):
    dependencies = [("documents", "0005_chunk_tag_features_and_term_statistics")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE documents_chunk ALTER COLUMN embedding SET STORAGE MAIN, "
            "ALTER COLUMN search_vector SET STORAGE MAIN, "
            f"SET (toast_tuple_target = {TOAST_TUPLE_TARGET})",
            "ALTER TABLE documents_chunk ALTER COLUMN embedding SET STORAGE EXTERNAL, "
            "ALTER COLUMN search_vector SET STORAGE EXTENDED, RESET (toast_tuple_target)",
        ),
    ]
