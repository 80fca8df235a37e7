#!/bin/sh
# The official postgres image's start-up contract, reduced to what docker-compose.yml uses: on an empty $PGDATA,
# initdb with POSTGRES_USER as superuser and POSTGRES_PASSWORD, create POSTGRES_DB, accept password (scram) logins
# from other hosts; then run the server as the postgres user.
set -eu
if [ "$(id -u)" = 0 ]; then
  # A fresh named volume is root-owned; the server refuses a data directory it does not own.
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set (as with the official image)}"
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb --username="$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA" >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  printf "listen_addresses = '*'\njit = off\n" >>"$PGDATA/postgresql.auto.conf"
  if [ "$db" != postgres ]; then
    # Single-user mode: no server listens before the database exists, so the health check cannot pass early.
    printf 'CREATE DATABASE "%s";\n' "$db" | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
  echo "initialised $PGDATA for user $user, database $db"
fi
exec "$@"
