"""Keep only the birth year in clear: the full date completed the ID mask.

Adds birth_year, copies the year of every stored birth_date in one UPDATE per database
(set-based, no rows loaded), then drops birth_date.
"""

from django.db import migrations, models
from django.db.models.functions import ExtractYear


def copy_years(apps, schema_editor):
    Person = apps.get_model("people", "Person")
    Person.objects.exclude(birth_date=None).update(birth_year=ExtractYear("birth_date"))


def copy_back(apps, schema_editor):
    # The dates are gone for good: going back leaves birth_date empty.
    return


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0002_person_name_prefix_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="person",
            name="birth_year",
            field=models.PositiveSmallIntegerField(
                blank=True, null=True, verbose_name="出生年份"
            ),
        ),
        migrations.RunPython(copy_years, copy_back, elidable=False),
        migrations.RemoveField(
            model_name="person",
            name="birth_date",
        ),
    ]
