"""The admin's Arabic: every label of ours is translated, and the compiled file is current."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils import translation

from apps.bookings.models import Booking, BookingStatus

LOCALE = Path(__file__).resolve().parents[3] / "locale" / "ar" / "LC_MESSAGES"


def test_every_label_has_an_arabic_translation():
    """Every string marked for translation has its Arabic. (Strings built outside
    gettext are found on the pages themselves: test_admin_arabic.py.)"""
    text = (LOCALE / "django.po").read_text()
    entries = text.split("\n\n")[1:]  # after the header
    # An empty msgstr (or plural form) not continued on the next line; a long
    # translation wrapped by msgmerge starts with msgstr "" and goes on below.
    empty = re.compile(r'^msgstr(\[\d+\])? ""$(?!\n")', re.MULTILINE)
    untranslated = [e for e in entries if empty.search(e) and not e.strip().startswith("#~")]
    guessed = [e for e in entries if "#, fuzzy" in e]  # gettext's guesses are not used: translate them

    assert entries and untranslated == [] and guessed == []


def test_the_compiled_translations_match_the_source(tmp_path):
    if shutil.which("msgfmt") is None:
        pytest.skip("msgfmt (GNU gettext) is not installed")
    compiled = tmp_path / "django.mo"

    subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(LOCALE / "django.po")], check=True)

    assert compiled.read_bytes() == (LOCALE / "django.mo").read_bytes(), "run msgfmt: django.mo is stale"


def test_models_and_choices_read_in_arabic():
    with translation.override("ar"):
        assert str(Booking._meta.verbose_name_plural) == "الحجوزات"
        assert str(BookingStatus.CONFIRMED.label) == "مؤكد"
        assert str(Booking._meta.get_field("start").verbose_name) == "البداية"
