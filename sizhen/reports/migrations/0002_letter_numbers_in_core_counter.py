from django.db import migrations


def copy_to_core_counter(apps, schema_editor):
    """Letter numbers continue from where the app's own counter stopped."""
    LetterSequence = apps.get_model("reports", "LetterSequence")
    DocumentCounter = apps.get_model("core", "DocumentCounter")
    for row in LetterSequence.objects.all():
        DocumentCounter.objects.update_or_create(
            scheme="reminder_letter", year=row.year, defaults={"last_number": row.last_number}
        )


def copy_back(apps, schema_editor):
    LetterSequence = apps.get_model("reports", "LetterSequence")
    DocumentCounter = apps.get_model("core", "DocumentCounter")
    for row in DocumentCounter.objects.filter(scheme="reminder_letter"):
        LetterSequence.objects.update_or_create(
            year=row.year, defaults={"last_number": row.last_number}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_document_counter"),
        ("reports", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(copy_to_core_counter, copy_back),
        migrations.DeleteModel(name="LetterSequence"),
    ]
