#!/usr/bin/env bash
# Offline checks of the container files (no Docker engine needed):
#   1. docker-compose.yml: `docker compose config -q` (or docker-compose v1.29+),
#      then the rules of docs/containers.md on the resolved file (3 ZooKeeper
#      servers in one ensemble, every app connected to all of them, unique
#      member ids and host ports, ports published on 127.0.0.1 only, health
#      checks and restart policies).
#   2. Dockerfile: hadolint when installed; always a structural check (multi-stage,
#      npm ci + build + prune, non-root USER, HEALTHCHECK, COPY sources exist).
#
#   scripts/check-containers.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

fail() {
  echo "check-containers: $*" >&2
  exit 1
}

# ---- compose ----------------------------------------------------------------------
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
else
  fail "neither 'docker compose' nor 'docker-compose' is installed (apt-get install -y docker-compose)"
fi
echo "compose: ${compose[*]} ($("${compose[@]}" version --short 2>/dev/null || echo '?'))"
"${compose[@]}" -f docker-compose.yml config -q
resolved=$("${compose[@]}" -f docker-compose.yml config)

python3 - "$resolved" <<'PY'
import sys
import yaml

doc = yaml.safe_load(sys.argv[1])
services = doc["services"]
problems = []

def env_of(service):
    env = services[service].get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return env

zookeepers = sorted(s for s in services if s.startswith("zk"))
apps = sorted(s for s in services if env_of(s).get("APP"))
if len(zookeepers) != 3:
    problems.append(f"expected 3 ZooKeeper servers, found {zookeepers}")
ids = set()
for zk in zookeepers:
    env = env_of(zk)
    ids.add(env.get("ZOO_MY_ID"))
    servers = env.get("ZOO_SERVERS", "")
    for other in zookeepers:
        if f"={other}:2888:3888" not in servers:
            problems.append(f"{zk}: ZOO_SERVERS does not list {other}")
    if "srvr" not in env.get("ZOO_4LW_COMMANDS_WHITELIST", ""):
        problems.append(f"{zk}: srvr must be in ZOO_4LW_COMMANDS_WHITELIST (health check)")
if len(ids) != len(zookeepers):
    problems.append(f"ZOO_MY_ID values must be unique: {ids}")

counts = {"scheduler": 0, "worker": 0, "registry": 0}
members = {}
for app in apps:
    env = env_of(app)
    kind = env["APP"]
    if kind not in counts:
        problems.append(f"{app}: APP={kind} is not scheduler, worker or registry")
        continue
    counts[kind] += 1
    connect = env.get("ZK_CONNECT", "")
    for zk in zookeepers:
        if f"{zk}:2181" not in connect.split(","):
            problems.append(f"{app}: ZK_CONNECT does not list {zk}:2181")
    member = env.get("MEMBER_ID")
    if not member:
        problems.append(f"{app}: MEMBER_ID is not set")
    elif member in members:
        problems.append(f"{app}: MEMBER_ID {member} already used by {members[member]}")
    else:
        members[member] = app
    if kind != "worker" and not env.get("DATABASE_URL"):
        problems.append(f"{app}: DATABASE_URL is not set")
    depends = services[app].get("depends_on") or {}
    for zk in zookeepers:
        if not isinstance(depends, dict) or depends.get(zk, {}).get("condition") != "service_healthy":
            problems.append(f"{app}: must depend on {zk} being healthy")
if counts["scheduler"] < 2 or counts["worker"] < 2 or counts["registry"] < 1:
    problems.append(f"expected 2+ schedulers, 2+ workers, 1+ registry; found {counts}")

published = {}
for name, service in services.items():
    if "healthcheck" not in service:
        problems.append(f"{name}: no healthcheck")
    if service.get("restart") not in ("always", "unless-stopped", "on-failure"):
        problems.append(f"{name}: no restart policy")
    for port in service.get("ports") or []:
        # Resolved short syntax: "127.0.0.1:3000:3000/tcp"; long: {host_ip, published, …}.
        if isinstance(port, dict):
            host_ip, host = port.get("host_ip"), str(port.get("published"))
        else:
            parts = str(port).split("/")[0].split(":")
            host_ip, host = (parts[0], parts[1]) if len(parts) == 3 else (None, parts[0])
        if host_ip != "127.0.0.1":
            problems.append(f"{name}: port {port} is published beyond 127.0.0.1")
        if host in published:
            problems.append(f"{name}: host port {host} also published by {published[host]}")
        published[host] = name

if problems:
    print("docker-compose.yml:", *problems, sep="\n  - ", file=sys.stderr)
    sys.exit(1)
print(f"docker-compose.yml: ok ({len(zookeepers)} ZooKeeper servers, {counts})")
PY

# The locked-down overlay: it must resolve over the base file, and give every
# app its secrets and the settings that read them.
"${compose[@]}" -f docker-compose.yml -f docker-compose.secure.yml config -q
secure=$("${compose[@]}" -f docker-compose.yml -f docker-compose.secure.yml config)
python3 - "$secure" <<'PY'
import sys
import yaml

doc = yaml.safe_load(sys.argv[1])
problems = []
for name, service in doc["services"].items():
    env = service.get("environment") or {}
    if env.get("APP") is None:
        continue  # ZooKeeper, PostgreSQL
    secrets = {s["source"] if isinstance(s, dict) else s for s in service.get("secrets") or []}
    tokens = "worker_api_tokens.json" if env.get("APP") == "worker" else "api_tokens.json"
    for variable, secret in [("ZK_AUTH_FILE", "zk_auth"), ("API_TOKENS_FILE", tokens),
                             ("TLS_CERT_FILE", "tls_cert.pem"), ("TLS_KEY_FILE", "tls_key.pem")]:
        if not env.get(variable):
            problems.append(f"{name}: {variable} unset")
        if secret not in secrets:
            problems.append(f"{name}: secret {secret} not mounted")
    if env.get("APP") in ("scheduler", "registry") and not env.get("DATABASE_URL_FILE"):
        problems.append(f"{name}: DATABASE_URL_FILE unset")
    if env.get("APP") == "worker" and env.get("WORKER_ALLOW_SHELL") != "false":
        problems.append(f"{name}: shell not disabled")
    # Workers run other people's code: no secret they do not use.
    if env.get("APP") == "worker":
        for extra in sorted(secrets - {"zk_auth", "worker_api_tokens.json", "tls_cert.pem", "tls_key.pem"}):
            problems.append(f"{name}: worker gets secret {extra}, which it does not use")
if problems:
    print("docker-compose.secure.yml:", *problems, sep="\n  - ", file=sys.stderr)
    sys.exit(1)
print("docker-compose.secure.yml: ok (every app authenticated, TLS on, secrets from files)")
PY

# ---- Dockerfile -----------------------------------------------------------------------
if command -v hadolint >/dev/null 2>&1; then
  hadolint Dockerfile
else
  echo "Dockerfile: hadolint not installed; structural check only"
fi
dockerfile_problems=()
grep -Eq '^FROM .+ AS build' Dockerfile || dockerfile_problems+=("no build stage (FROM … AS build)")
[[ $(grep -c '^FROM ' Dockerfile) -ge 2 ]] || dockerfile_problems+=("not multi-stage")
grep -Eq 'npm ci' Dockerfile || dockerfile_problems+=("the build does not run npm ci")
grep -Eq 'npm run build' Dockerfile || dockerfile_problems+=("the build does not run npm run build")
grep -Eq 'npm prune --omit=dev' Dockerfile || dockerfile_problems+=("dev dependencies are not pruned")
grep -Eq '^HEALTHCHECK ' Dockerfile || dockerfile_problems+=("no HEALTHCHECK")
grep -Eq '^ARG APP=' Dockerfile || dockerfile_problems+=("no ARG APP")
last_user=$(awk '/^FROM /{user=""} /^USER /{user=$2} END{print user}' Dockerfile)
[[ -n $last_user && $last_user != root && $last_user != 0 && $last_user != 0:0 ]] ||
  dockerfile_problems+=("the final stage must switch to a non-root USER")
if grep -Eq '^FROM [^ ]+:latest' Dockerfile; then dockerfile_problems+=("unpinned :latest base image"); fi
# COPY sources (not from another stage) must exist in the build context.
while read -r source; do
  [[ -e $source ]] || dockerfile_problems+=("COPY source $source does not exist")
done < <(grep -E '^COPY ' Dockerfile | grep -v -- '--from=' | sed -E 's/^COPY( --[^ ]+)* //' |
  awk '{for (i = 1; i < NF; i++) print $i}')
if ((${#dockerfile_problems[@]} > 0)); then
  printf 'Dockerfile:\n' >&2
  printf '  - %s\n' "${dockerfile_problems[@]}" >&2
  exit 1
fi
echo "Dockerfile: ok"
