"""Encrypt mailbox secrets stored in plain text before tessera.mail.crypto existed."""

from django.db import migrations, models

SECRETS = ("imap_password", "oauth_client_secret", "oauth_refresh_token", "oauth_access_token")


def encrypt(apps, schema_editor):
    # The field class reads legacy plain text as it is and encrypts whatever it writes.
    Mailbox = apps.get_model("mail", "Mailbox")
    for mailbox in Mailbox.objects.all():
        mailbox.save(update_fields=SECRETS)


def decrypt(apps, schema_editor):
    # Back to plain text, written as expressions so the field does not encrypt them again.
    Mailbox = apps.get_model("mail", "Mailbox")
    for mailbox in Mailbox.objects.all():
        # An unreadable value (its key is gone) keeps its ciphertext rather than becoming empty.
        values = {name: getattr(getattr(mailbox, name), "stored", getattr(mailbox, name)) for name in SECRETS}
        Mailbox.objects.filter(pk=mailbox.pk).update(
            **{name: models.Value(value, output_field=models.TextField()) for name, value in values.items()}
        )


class Migration(migrations.Migration):
    dependencies = [("mail", "0002_secrets_fetch_lease_delivery_tracking")]

    operations = [migrations.RunPython(encrypt, decrypt)]
