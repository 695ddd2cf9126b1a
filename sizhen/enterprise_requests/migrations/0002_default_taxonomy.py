from django.db import migrations


def load(apps, schema_editor):
    from sizhen.enterprise_requests.taxonomy import load_default_taxonomy

    load_default_taxonomy(apps.get_model("enterprise_requests", "RequestCategory"))


class Migration(migrations.Migration):
    dependencies = [("enterprise_requests", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
