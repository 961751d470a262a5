#!/bin/sh
# Back up Kopir: the database as a pg_dump archive (custom format) and the uploads and letters
# (STORAGE_DIR) as a tar, in a folder named by the time in UTC, e.g. 20270115T020000Z/, with
# their SHA-256 sums. The newest BACKUP_KEEP backups are kept, older ones removed. Run it where
# the shared storage is mounted (the worker machine), as the kopir user, with the portal's
# settings: deploy/kopir-backup.service and .timer do that every night.
#
#   DATABASE_URL   the portal's database, as in /etc/kopir/kopir.env (KOPIR_DATABASE_URL wins)
#   STORAGE_DIR    the folder of uploads and letters
#   BACKUP_DIR     where the backups go; default /var/backups/kopir
#   BACKUP_KEEP    how many backups to keep; default 14
#   PG_BIN         folder of pg_dump and pg_restore, when not the server's version found by itself
#
# Prints the new backup's folder. deploy/restore.sh puts one back.
set -eu
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
. "$here/pg-tools.sh"

storage=${KOPIR_STORAGE_DIR:-${STORAGE_DIR:-}}
[ -n "$storage" ] || die "set STORAGE_DIR, the folder of uploads and letters"
[ -d "$storage" ] || die "STORAGE_DIR $storage is not a folder (is the shared volume mounted?)"
backups=${BACKUP_DIR:-/var/backups/kopir}
keep=${BACKUP_KEEP:-14}
case $keep in '' | *[!0-9]* | 0) die "BACKUP_KEEP must be a whole number above 0, not '$keep'" ;; esac

kopir_pg_env
bin=$(kopir_pg_bin)

# Backups hold personal data: readable by their owner only.
umask 077
mkdir -p "$backups"
# One backup at a time; a second one started meanwhile (a slow night) gives up.
exec 9>"$backups/.lock"
flock -n 9 || die "another backup is running in $backups"
# What a killed run left behind is no backup.
rm -rf "$backups"/.*.partial

stamp=$(date -u +%Y%m%dT%H%M%SZ)
final="$backups/$stamp"
partial="$backups/.$stamp.partial"
[ ! -e "$final" ] || die "$final exists already"
mkdir "$partial"
trap 'rm -rf "$partial"' EXIT

# The database first, then the files. A file stored meanwhile is then in the tar without a row
# pointing at it (harmless); the other order would give rows whose files are missing.
"$bin/pg_dump" --no-password --format=custom --file="$partial/database.dump"

# Uploaded documents and letters are PDF and images, compressed already: a plain tar. Files being
# written (*.part) are left out; they are renamed into place only once complete.
status=0
tar --create --file="$partial/files.tar" --directory="$storage" --exclude='*.part' \
    --warning=no-file-changed --warning=no-file-removed . || status=$?
# GNU tar says 1 when a file changed or went while it was read (an upload or a removal at that
# moment): the tar is still good. Anything else is a failure.
[ "$status" -le 1 ] || die "tar of $storage failed ($status)"

(cd "$partial" && sha256sum database.dump files.tar >SHA256SUMS)
mv "$partial" "$final"
trap - EXIT
echo "$final"

# Keep the newest $keep backups. Names are times, so their order is the order they were made.
count=$(find "$backups" -mindepth 1 -maxdepth 1 -type d -name '[0-9]*T[0-9]*Z' | wc -l)
if [ "$count" -gt "$keep" ]; then
    find "$backups" -mindepth 1 -maxdepth 1 -type d -name '[0-9]*T[0-9]*Z' | sort |
        head -n "$((count - keep))" | while IFS= read -r old; do
            rm -rf "$old"
            echo "removed $old" >&2
        done
fi
