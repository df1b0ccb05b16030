#!/usr/bin/env bash
# Writes the secrets docker-compose.secure.yml mounts, each readable by its
# owner only (mode 600, owned by the containers' `node` user, uid 1000, when
# run as root): ZooKeeper digest credentials, three API tokens (admin,
# submitter, reader), the workers' own metrics token, a random PostgreSQL
# password and the URL that carries it, and a self-signed TLS certificate for
# the services. Existing files are kept; delete one to make it again.
#
#   scripts/make-secrets.sh            # into ./secrets (ignored by git)
#   scripts/make-secrets.sh <folder>   # elsewhere; then ZKS_SECRETS_DIR=<folder> for compose
set -euo pipefail
secrets=${1:-$(dirname "${BASH_SOURCE[0]}")/../secrets}
umask 077
mkdir -p "$secrets"

random() { openssl rand -hex 24; }
write() { # write <file> <content>: only when missing
  if [[ -e $secrets/$1 ]]; then echo "kept    $secrets/$1"; else printf '%s\n' "$2" >"$secrets/$1" && echo "wrote   $secrets/$1"; fi
}

write zk_auth "zk-scheduler:$(random)"
write api_tokens.json "$(
  cat <<JSON
[
  { "name": "ops", "role": "admin", "token": "$(random)" },
  { "name": "ci", "role": "submitter", "token": "$(random)" },
  { "name": "dashboard", "role": "reader", "token": "$(random)" }
]
JSON
)"
# Workers serve only /metrics: they get a reader token of their own, never the admin ones.
write worker_api_tokens.json "[{ \"name\": \"prometheus\", \"role\": \"reader\", \"token\": \"$(random)\" }]"
# PostgreSQL reads its password from postgres_password (POSTGRES_PASSWORD_FILE); the URL carries the same.
write postgres_password "$(random)"
write database_url "postgres://zks:$(cat "$secrets/postgres_password")@postgres:5432/zk_scheduler"
if [[ ! -e $secrets/tls_cert.pem ]]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj '/CN=zk-scheduler' \
    -addext 'subjectAltName=DNS:localhost,DNS:scheduler-1,DNS:scheduler-2,DNS:registry-1,IP:127.0.0.1' \
    -keyout "$secrets/tls_key.pem" -out "$secrets/tls_cert.pem" 2>/dev/null
  echo "wrote   $secrets/tls_cert.pem, $secrets/tls_key.pem (self-signed)"
fi
# Compose mounts the files as they are: readable by their owner only, and that
# owner is the containers' `node` user (uid 1000) when we can make it so.
chmod 600 "$secrets"/*
if [[ $(id -u) == 0 ]]; then
  chown 1000:1000 "$secrets"/*
elif [[ $(id -u) != 1000 ]]; then
  echo "note: the containers run as uid 1000 and cannot read files owned by uid $(id -u); run this as root (or uid 1000)" >&2
fi
echo "the API tokens are in $secrets/api_tokens.json (send one as: Authorization: Bearer <token>)"
