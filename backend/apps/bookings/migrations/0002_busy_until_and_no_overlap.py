"""Add busy_until (end + buffer) and, on PostgreSQL, the database guarantee that a
staff member's active bookings never overlap (an exclusion constraint, btree_gist)."""

from django.db import migrations, models

NO_OVERLAP = "booking_staff_no_overlap"


def fill_busy_until(apps, schema_editor):
    Booking = apps.get_model("bookings", "Booking")
    Booking.objects.filter(busy_until__isnull=True).update(busy_until=models.F("end"))


def add_exclusion(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite: the booking service's check under BEGIN IMMEDIATE holds the rule
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(
        f"""ALTER TABLE bookings_booking ADD CONSTRAINT {NO_OVERLAP}
        EXCLUDE USING gist (staff_id WITH =, tstzrange("start", busy_until, '[)') WITH &&)
        WHERE (status IN ('pending', 'confirmed'))"""
    )


def drop_exclusion(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE bookings_booking DROP CONSTRAINT IF EXISTS {NO_OVERLAP}")


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0001_initial"),
    ]

    operations = [
        migrations.AddField(model_name="booking", name="busy_until", field=models.DateTimeField(null=True)),
        migrations.RunPython(fill_busy_until, migrations.RunPython.noop),
        migrations.AlterField(model_name="booking", name="busy_until", field=models.DateTimeField()),
        migrations.AddConstraint(
            model_name="booking",
            constraint=models.CheckConstraint(
                condition=models.Q(("busy_until__gte", models.F("end"))), name="booking_busy_until_not_before_end"
            ),
        ),
        migrations.RunPython(add_exclusion, drop_exclusion),
    ]
