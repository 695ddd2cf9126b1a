"""Keep the first acceptance (首次签收) apart from the latest one, which re-dispatch and second
assignment overwrite. Existing requests take the earliest recorded ``accept`` transition, else
their current ``accepted_at``."""

from django.db import migrations, models


def fill(apps, schema_editor):
    request_model = apps.get_model("enterprise_requests", "EnterpriseRequest")
    history = apps.get_model("core", "TransitionHistory")
    first: dict[str, object] = {}
    rows = history.objects.filter(
        object_type="enterprise_requests.enterpriserequest", action="accept"
    ).order_by("at", "id")
    for object_id, at in rows.values_list("object_id", "at").iterator():
        first.setdefault(object_id, at)
    changed = []
    for request in request_model.objects.filter(
        accepted_at__isnull=False, first_accepted_at__isnull=True
    ).only("pk", "accepted_at"):
        request.first_accepted_at = min(
            request.accepted_at, first.get(str(request.pk), request.accepted_at)
        )
        changed.append(request)
    for request_id in set(first) - {str(r.pk) for r in changed}:
        # Accepted once, then re-dispatched (which clears accepted_at) and not accepted since.
        if request_id.isdigit():
            request_model.objects.filter(pk=int(request_id), first_accepted_at__isnull=True).update(
                first_accepted_at=first[request_id]
            )
    request_model.objects.bulk_update(changed, ["first_accepted_at"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("enterprise_requests", "0002_default_taxonomy"),
        ("core", "0003_alter_auditevent_actor"),
    ]

    operations = [
        migrations.AddField(
            model_name="enterpriserequest",
            name="first_accepted_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="首次签收时间"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
