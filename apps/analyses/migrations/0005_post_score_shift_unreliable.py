"""PostScore.shift (the collection's shift check) and PostScore.unreliable, the stored mark; scores stored before it
get the mark they had: beyond their analysis's training range (``result["ood"]["p99"]``)."""

from django.db import migrations, models


def mark_stored_scores(apps, schema_editor):
    Analysis = apps.get_model("analyses", "Analysis")
    PostScore = apps.get_model("analyses", "PostScore")
    for pk, result in Analysis.objects.filter(kind="score").values_list("pk", "result").iterator():
        ood = (result or {}).get("ood") or {}
        if not ood.get("available") or ood.get("p99") is None:
            continue
        rows = PostScore.objects.filter(analysis_id=pk, ood__isnull=False)
        rows.filter(ood__gt=ood["p99"]).update(unreliable=True)
        rows.filter(ood__lte=ood["p99"]).update(unreliable=False)


class Migration(migrations.Migration):

    dependencies = [
        ("analyses", "0004_post_score_ood"),
    ]

    operations = [
        migrations.AddField(
            model_name="postscore",
            name="shift",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="postscore",
            name="unreliable",
            field=models.BooleanField(blank=True, null=True),
        ),
        migrations.RunPython(mark_stored_scores, migrations.RunPython.noop),
    ]
