"""企业开办, 招标投标 and 知识产权质押登记 records name the department that handled them (issue 18,
departments as a dimension): installations created before get a new schema version of each
with the optional department field; their earlier loads keep the version they were made with."""

from django.db import migrations

CODES = ("enterprise_startup", "bidding", "ip_pledges")


def add_department_fields(apps, schema_editor):
    from sizhen.indicators.ingestion.engine.schemas import BUILTIN_BY_CODE

    Dataset = apps.get_model("indicators", "Dataset")
    DatasetVersion = apps.get_model("indicators", "DatasetVersion")
    for dataset in Dataset.objects.filter(code__in=CODES, builtin=True):
        current = DatasetVersion.objects.filter(
            dataset=dataset, version=dataset.current_version
        ).first()
        if current is None or current.department_field:
            continue
        spec = BUILTIN_BY_CODE[dataset.code]
        names = {f["name"] for f in current.fields}
        added = [f for f in spec["fields"] if f["name"] == spec["department_field"]]
        DatasetVersion.objects.create(
            dataset=dataset,
            version=current.version + 1,
            key=current.key,
            region_field=current.region_field,
            department_field=spec["department_field"],
            fields=[*current.fields, *(f for f in added if f["name"] not in names)],
        )
        dataset.current_version = current.version + 1
        dataset.save(update_fields=["current_version"])


class Migration(migrations.Migration):
    dependencies = [("indicators", "0006_department_values")]

    operations = [migrations.RunPython(add_department_fields, migrations.RunPython.noop)]
