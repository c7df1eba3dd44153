"""Emails rendered when they are delivered: what to render is kept in `render`.

Nullable with no default, so adding it is a catalogue change on PostgreSQL and an ADD COLUMN on SQLite:
no table rewrite however large the outbox is. Reversible; going back refuses while an email waiting to be
rendered is still unsent (the older code would send it empty)."""

from django.db import migrations, models


def refuse_with_unrendered_mail(apps, schema_editor):
    OutboundEmail = apps.get_model("mail", "OutboundEmail")
    waiting = OutboundEmail.objects.filter(state__in=["queued", "sending"], render__isnull=False)
    if waiting.exists():
        raise RuntimeError(
            f"{waiting.count()} queued emails are rendered at delivery; send them before migrating back."
        )


class Migration(migrations.Migration):

    dependencies = [
        ("mail", "0003_encrypt_stored_secrets"),
    ]

    operations = [
        migrations.AddField(
            model_name="outboundemail",
            name="render",
            field=models.JSONField(blank=True, null=True),
        ),
        # Runs first when migrating back.
        migrations.RunPython(migrations.RunPython.noop, refuse_with_unrendered_mail, elidable=True),
    ]
