"""v9: a secondary contact is released only once its close contact's first two tests are
negative (第九版: 密接前两次核酸检测均为阴性，次密接可解除). v8 had no such condition.

`RULESET_UPDATES` is applied on top of 0003's values; the test kit re-installs both."""

from django.db import migrations

RULESET_UPDATES = {
    "v8": {"secondary_release_close_negatives": 0},
    "v9": {"secondary_release_close_negatives": 2},
}


def forwards(apps, schema_editor):
    RuleSet = apps.get_model("protocol", "RuleSet")
    for version, values in RULESET_UPDATES.items():
        RuleSet.objects.filter(version=version).update(**values)


class Migration(migrations.Migration):
    dependencies = [("protocol", "0004_classification_and_quarantine_fields")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
