"""Date and time formats of the pages people read (the admin): one format in both
languages, 24-hour, as the messages write times (FORMAT_MODULE_PATH)."""
