#!/bin/bash
# Runs PostgreSQL from the variables of the official `postgres` image (those
# docker-compose.yml and docker-compose.secure.yml use): on the first start, an
# empty PGDATA gets a cluster whose superuser is POSTGRES_USER (default
# postgres) with POSTGRES_PASSWORD or the content of POSTGRES_PASSWORD_FILE
# (one of them required), a database POSTGRES_DB (default: the user's name),
# password authentication (scram-sha-256) from any address and trust on the
# local socket only (pg_isready, inside the container). Then execs the server
# (PID 1), listening on every interface of the container, as `postgres`.
#
# Started as root, like the official image: only to read the password file
# (a secret may be readable by its owner only) and to hand the data folder to
# `postgres`; then this script runs again as `postgres`.
set -euo pipefail

if [[ -n ${POSTGRES_PASSWORD_FILE:-} ]]; then
  if [[ -n ${POSTGRES_PASSWORD:-} ]]; then
    echo "postgres-entrypoint: set POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE, not both" >&2
    exit 1
  fi
  POSTGRES_PASSWORD=$(<"$POSTGRES_PASSWORD_FILE")
  export POSTGRES_PASSWORD
  unset POSTGRES_PASSWORD_FILE
fi

if [[ $(id -u) == 0 ]]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [[ ! -s $PGDATA/PG_VERSION ]]; then
  : "${POSTGRES_PASSWORD:?must be set (or POSTGRES_PASSWORD_FILE): the password of POSTGRES_USER}"
  user=${POSTGRES_USER:-postgres}
  database=${POSTGRES_DB:-$user}
  password_file=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$password_file"
  initdb --pgdata="$PGDATA" --username="$user" --pwfile="$password_file" \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8
  rm -f "$password_file"
  echo 'host all all all scram-sha-256' >>"$PGDATA/pg_hba.conf"
  if [[ $database != postgres ]]; then
    # Single-user mode: no server to start and stop; the name quoted as an identifier.
    printf 'CREATE DATABASE "%s"\n' "${database//\"/\"\"}" |
      postgres --single -D "$PGDATA" postgres >/dev/null
  fi
  echo "postgres-entrypoint: created database \"$database\" owned by \"$user\" in $PGDATA"
fi

# The server needs no password of its own: keep it out of its environment.
unset POSTGRES_PASSWORD
exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
