#!/bin/sh
# Put back a backup made by deploy/backup.sh: its database into an EMPTY database, its files into
# an empty STORAGE_DIR. Refuses anything else, so it can never mix a backup with live data.
#
#   restore.sh /var/backups/kopir/20270115T020000Z
#
# Run it as the kopir user with the new machine's settings (DATABASE_URL names the new, empty
# database, made with `createdb -O kopir kopir`; STORAGE_DIR the empty shared folder), then
# `flask --app wsgi db upgrade` in case the installed release is newer than the backup.
set -eu
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
. "$here/pg-tools.sh"

[ $# -eq 1 ] || die "usage: $0 BACKUP_FOLDER (one made by backup.sh)"
backup=$1
[ -f "$backup/database.dump" ] && [ -f "$backup/files.tar" ] && [ -f "$backup/SHA256SUMS" ] ||
    die "$backup is not a backup made by backup.sh (database.dump, files.tar, SHA256SUMS)"
storage=${KOPIR_STORAGE_DIR:-${STORAGE_DIR:-}}
[ -n "$storage" ] || die "set STORAGE_DIR, the folder the uploads and letters go to"

(cd "$backup" && sha256sum --check --quiet SHA256SUMS) || die "$backup is damaged: its checksums differ"

kopir_pg_env
bin=$(kopir_pg_bin)

# Check both targets before touching either.
relations=$("$bin/psql" -X -A -t -q -w -v ON_ERROR_STOP=1 -c "
    SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'")
[ "$relations" = 0 ] ||
    die "database $PGDATABASE is not empty (it holds $relations tables, indexes or sequences): restore into a new one"
if [ -d "$storage" ] && [ -n "$(ls -A "$storage")" ]; then
    die "STORAGE_DIR $storage is not empty: restore into an empty folder"
fi

# One transaction: the database is either all restored or left empty. Objects belong to the
# user restoring (the portal's), whoever owned them where the backup was made.
"$bin/pg_restore" --no-password --exit-on-error --single-transaction --no-owner --no-privileges \
    --dbname="$PGDATABASE" "$backup/database.dump"
mkdir -p "$storage"
tar --extract --file="$backup/files.tar" --directory="$storage" --no-same-owner
echo "restored $backup into database $PGDATABASE and $storage"
