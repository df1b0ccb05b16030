#!/usr/bin/env bash
# Writes the secrets docker-compose.secure.yml mounts: ZooKeeper digest
# credentials, three API tokens (admin, submitter, reader), the PostgreSQL URL,
# and a self-signed TLS certificate for the services.
# Existing files are kept; delete one to make it again.
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
# The password must be POSTGRES_PASSWORD's (docker-compose.yml; default zks).
write database_url "postgres://zks:${POSTGRES_PASSWORD:-zks}@postgres:5432/zk_scheduler"
if [[ ! -e $secrets/tls_cert.pem ]]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj '/CN=zk-scheduler' \
    -addext 'subjectAltName=DNS:localhost,DNS:scheduler-1,DNS:scheduler-2,DNS:registry-1,IP:127.0.0.1' \
    -keyout "$secrets/tls_key.pem" -out "$secrets/tls_cert.pem" 2>/dev/null
  echo "wrote   $secrets/tls_cert.pem, $secrets/tls_key.pem (self-signed)"
fi
# The containers run as the image's `node` user: it must read the mounted files.
chmod 644 "$secrets"/*
echo "the API tokens are in $secrets/api_tokens.json (send one as: Authorization: Bearer <token>)"
