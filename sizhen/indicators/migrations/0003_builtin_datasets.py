"""Create the four built-in source datasets on every installation (idempotent)."""

from django.db import migrations


def create_builtin_datasets(apps, schema_editor):
    from sizhen.indicators.ingestion.engine.schemas import BUILTIN_DATASETS

    Dataset = apps.get_model("indicators", "Dataset")
    DatasetVersion = apps.get_model("indicators", "DatasetVersion")
    for spec in BUILTIN_DATASETS:
        dataset, _ = Dataset.objects.get_or_create(
            code=spec["code"],
            defaults={"name": spec["name"], "description": spec["description"], "builtin": True},
        )
        if not DatasetVersion.objects.filter(dataset=dataset).exists():
            DatasetVersion.objects.create(
                dataset=dataset,
                version=1,
                key=spec["key"],
                region_field=spec["region_field"],
                department_field=spec["department_field"],
                fields=spec["fields"],
            )


class Migration(migrations.Migration):
    dependencies = [("indicators", "0002_fillinground_fillingrule_fillingtask")]

    operations = [migrations.RunPython(create_builtin_datasets, migrations.RunPython.noop)]
