"""Entered screening, enrolment and randomisation dates (endpoint origins).

Existing subjects and allocations get the calendar date (in the project time zone) of the
moment they were recorded: before this migration that moment was the only date the EDC kept,
and every endpoint used it as origin. Historical rows get the same date as their record.
"""

from django.db import migrations, models
from django.utils import timezone


def _local_date(moment):  # type: ignore[no-untyped-def]
    return timezone.localtime(moment).date() if timezone.is_aware(moment) else moment.date()


def fill_dates(apps, schema_editor):  # type: ignore[no-untyped-def]
    for model_name, date_field, moment_field in (("ScreeningRecord", "screening_date", "screened_at"),
                                                 ("HistoricalScreeningRecord", "screening_date", "screened_at"),
                                                 ("Subject", "enrolment_date", "enrolled_at"),
                                                 ("HistoricalSubject", "enrolment_date", "enrolled_at"),
                                                 ("Randomisation", "randomisation_date", "allocated_at"),
                                                 ("HistoricalRandomisation", "randomisation_date", "allocated_at")):
        model = apps.get_model("core", model_name)
        for row in model.objects.filter(**{f"{date_field}__isnull": True}).only("pk", moment_field).iterator():
            model.objects.filter(pk=row.pk).update(**{date_field: _local_date(getattr(row, moment_field))})


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0005_amendment_control_sequence_segments"),
    ]

    operations = [
        migrations.AddField(
            model_name="screeningrecord", name="screening_date",
            field=models.DateField(null=True),
        ),
        migrations.AddField(
            model_name="historicalscreeningrecord", name="screening_date",
            field=models.DateField(null=True),
        ),
        migrations.AddField(
            model_name="subject", name="enrolment_date",
            field=models.DateField(null=True),
        ),
        migrations.AddField(
            model_name="historicalsubject", name="enrolment_date",
            field=models.DateField(null=True),
        ),
        migrations.AddField(
            model_name="randomisation", name="randomisation_date",
            field=models.DateField(null=True),
        ),
        migrations.AddField(
            model_name="historicalrandomisation", name="randomisation_date",
            field=models.DateField(null=True),
        ),
        migrations.RunPython(fill_dates, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="screeningrecord", name="screening_date",
            field=models.DateField(help_text="the date the patient was screened, as entered"),
        ),
        migrations.AlterField(
            model_name="historicalscreeningrecord", name="screening_date",
            field=models.DateField(help_text="the date the patient was screened, as entered"),
        ),
        migrations.AlterField(
            model_name="screeningrecord", name="screened_at",
            field=models.DateTimeField(auto_now_add=True, help_text="when the screening was recorded"),
        ),
        migrations.AlterField(
            model_name="historicalscreeningrecord", name="screened_at",
            field=models.DateTimeField(blank=True, editable=False, help_text="when the screening was recorded"),
        ),
        migrations.AlterField(
            model_name="subject", name="enrolment_date",
            field=models.DateField(
                help_text="the date the subject was enrolled, as entered (origin of enrolment-based endpoints)"),
        ),
        migrations.AlterField(
            model_name="historicalsubject", name="enrolment_date",
            field=models.DateField(
                help_text="the date the subject was enrolled, as entered (origin of enrolment-based endpoints)"),
        ),
        migrations.AlterField(
            model_name="randomisation", name="randomisation_date",
            field=models.DateField(
                help_text="the date of randomisation, as entered (origin of randomisation-based endpoints)"),
        ),
        migrations.AlterField(
            model_name="historicalrandomisation", name="randomisation_date",
            field=models.DateField(
                help_text="the date of randomisation, as entered (origin of randomisation-based endpoints)"),
        ),
        migrations.AlterField(
            model_name="subject", name="enrolled_at",
            field=models.DateTimeField(auto_now_add=True, help_text="when the enrolment was recorded"),
        ),
        migrations.AlterField(
            model_name="historicalsubject", name="enrolled_at",
            field=models.DateTimeField(blank=True, editable=False, help_text="when the enrolment was recorded"),
        ),
        migrations.AlterField(
            model_name="randomisation", name="allocated_at",
            field=models.DateTimeField(auto_now_add=True, help_text="when the allocation was made"),
        ),
        migrations.AlterField(
            model_name="historicalrandomisation", name="allocated_at",
            field=models.DateTimeField(blank=True, editable=False, help_text="when the allocation was made"),
        ),
    ]
