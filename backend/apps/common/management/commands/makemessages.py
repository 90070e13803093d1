"""Django's makemessages, plus ``--no-fuzzy-matching``.

gettext's msgmerge guesses a translation for a new string from a similar old one
and marks it fuzzy; msgfmt then leaves it out, so the page shows English
("messages" was guessed as "الرسالة", message). With this flag a new string stays
untranslated, which the translations test names, until someone translates it:
`manage.py makemessages -l ar --no-fuzzy-matching`, then `manage.py compilemessages -l ar`.
"""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--no-fuzzy-matching",
            action="store_true",
            help="Do not let msgmerge guess translations of new strings from similar ones.",
        )

    def handle(self, *args, **options):
        if options["no_fuzzy_matching"]:
            self.msgmerge_options = [*self.msgmerge_options, "--no-fuzzy-matching"]
        return super().handle(*args, **options)
