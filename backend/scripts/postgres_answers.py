"""Exit 0 when the PostgreSQL server of the given DATABASE_URL accepts a connection."""

import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg

url = urlsplit(sys.argv[1])
# Ask the maintenance database: the project's own database may not exist yet.
maintenance = urlunsplit(url._replace(path="/postgres"))
try:
    psycopg.connect(maintenance, connect_timeout=3).close()
except psycopg.Error:
    sys.exit(1)
