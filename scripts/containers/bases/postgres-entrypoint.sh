#!/bin/bash
# Runs PostgreSQL from the variables of the official `postgres` image (those
# docker-compose.yml uses): on the first start, an empty PGDATA gets a cluster
# whose superuser is POSTGRES_USER (default postgres) with POSTGRES_PASSWORD
# (required), a database POSTGRES_DB (default: the user's name), password
# authentication (scram-sha-256) from any address and trust on the local
# socket only (pg_isready, inside the container). Then execs the server (PID 1),
# listening on every interface of the container.
set -euo pipefail

if [[ ! -s $PGDATA/PG_VERSION ]]; then
  : "${POSTGRES_PASSWORD:?must be set: the password of POSTGRES_USER}"
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

exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
