"""The full-text index of policies: an FTS5 table on SQLite, a tsvector table with a GIN index
on PostgreSQL (decision 0015)."""

from django.db import migrations


def create(apps, schema_editor):
    from sizhen.thinktank import search

    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute(search.CREATE_POSTGRES)
        else:
            cursor.execute(search.CREATE_SQLITE)


def drop(apps, schema_editor):
    from sizhen.thinktank import search

    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute(search.DROP_POSTGRES)
        else:
            cursor.execute(search.DROP_SQLITE)


class Migration(migrations.Migration):
    dependencies = [("thinktank", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
