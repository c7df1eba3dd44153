import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Start every agent's load from a real count of their open tickets.
INITIAL_COUNT = """
INSERT INTO tickets_agentload (agent_id, open_tickets, last_assigned_at)
SELECT assignee_id, COUNT(*), NULL FROM tickets_ticket
WHERE assignee_id IS NOT NULL AND status IN ('new', 'open', 'waiting')
GROUP BY assignee_id
"""


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0004_ticket_customer_service"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AgentLoad",
            fields=[
                (
                    "agent",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="load",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("open_tickets", models.IntegerField(default=0)),
                ("last_assigned_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={"verbose_name": "agent load", "verbose_name_plural": "agent loads"},
        ),
        migrations.RunSQL(INITIAL_COUNT, migrations.RunSQL.noop),
    ]
