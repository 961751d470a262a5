# Shared by backup.sh and restore.sh (sourced, not run): connection settings from the portal's
# DATABASE_URL, and the PostgreSQL client programs of the server's own major version.

die() {
    echo "$(basename "$0"): $*" >&2
    exit 1
}

# Export libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE (and PGSSLMODE and the like) from
# the portal's database setting, read from the variables the portal reads, in its order
# (portal/config.py): the programs then connect as the portal does, and no password is ever on
# a command line, where `ps` would show it.
kopir_pg_env() {
    settings=$(python3 - <<'PYTHON'
import os
import shlex
import sys
from urllib.parse import parse_qsl, unquote, urlsplit

VARIABLES = ("KOPIR_DATABASE_URL", "KOPIR_SQLALCHEMY_DATABASE_URI", "DATABASE_URL",
             "SQLALCHEMY_DATABASE_URI")
url = next((os.environ[name] for name in VARIABLES if name in os.environ), "")
parts = urlsplit(url)
if parts.scheme.split("+")[0] not in ("postgresql", "postgres"):
    sys.exit("DATABASE_URL must be a postgresql:// address, e.g. postgresql+psycopg://kopir@db/kopir")
# The URL's query options that libpq also reads from the environment.
OPTIONS = {
    "host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD",
    "sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY", "sslpassword": "PGSSLPASSWORD", "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME", "options": "PGOPTIONS", "passfile": "PGPASSFILE",
    "target_session_attrs": "PGTARGETSESSIONATTRS", "gssencmode": "PGGSSENCMODE",
}
found = {
    "PGHOST": parts.hostname, "PGPORT": parts.port, "PGUSER": parts.username,
    "PGPASSWORD": parts.password, "PGDATABASE": parts.path.lstrip("/"),
}
for key, value in parse_qsl(parts.query):
    if key not in OPTIONS:
        sys.exit(f"DATABASE_URL option {key!r} is not one these scripts know how to pass on")
    found[OPTIONS[key]] = value
if not found["PGDATABASE"]:
    sys.exit("DATABASE_URL names no database")
for name in ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"):
    print(f"unset {name}")
for name, value in found.items():
    if value not in (None, ""):
        text = str(value) if name == "PGPORT" else unquote(str(value))
        print(f"export {name}={shlex.quote(text)}")
PYTHON
    ) || exit 1
    eval "$settings"
}

# Print the folder of the pg_dump, pg_restore and psql whose major version is the server's: a newer
# pg_dump writes what an older server cannot restore, an older one refuses a newer server.
# PG_BIN names the folder outright; otherwise Debian's /usr/lib/postgresql/N/bin, then PATH.
kopir_pg_bin() {
    psql=$(command -v psql || ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | tail -n 1) ||
        die "no psql: install postgresql-client"
    number=$("$psql" -X -A -t -q -w -c 'SHOW server_version_num') ||
        die "cannot reach the database $PGDATABASE (see the message above)"
    major=$((number / 10000))
    on_path=$(command -v pg_dump || true)
    for folder in ${PG_BIN:-} "/usr/lib/postgresql/$major/bin" "${on_path%/pg_dump}"; do
        [ -n "$folder" ] && [ -x "$folder/pg_dump" ] && [ -x "$folder/pg_restore" ] && [ -x "$folder/psql" ] ||
            continue
        version=$("$folder/pg_dump" --version | sed -n 's/^pg_dump (PostgreSQL) \([0-9]*\).*/\1/p')
        if [ "$version" = "$major" ]; then
            echo "$folder"
            return 0
        fi
    done
    die "the server runs PostgreSQL $major: install its client programs" \
        "(apt-get install postgresql-client-$major) or name their folder in PG_BIN"
}
