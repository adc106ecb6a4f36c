# Labelled text-only sets (LIAR, Constraint) give neither a time nor an author: a post's time may be
# null, and a post without an author gets a stand-in account marked as such.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("collections", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="account",
            name="placeholder",
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name="post",
            name="time",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
