# One image for the three services, from one build: the apps are compiled
# together in the `build` stage; the runtime stage keeps the compiled output
# and the production dependencies only, and runs the app named by APP.
#
#   docker build -t zk-scheduler:local .                # public bases (node:22-bookworm-slim)
#   scripts/containers/build-local.sh                   # bases built on this machine, no registry
#   docker run -e APP=registry zk-scheduler:local       # APP: scheduler (default), worker, registry
#
# See docs/containers.md.

# The public bases by default; docker-compose.yml (x-bases) and
# scripts/containers/build-local.sh pass others as build arguments.
ARG BUILD_IMAGE=node:22-bookworm-slim
ARG RUNTIME_IMAGE=node:22-bookworm-slim

# ---- build: npm ci (with dev dependencies), npm run build, then prune -------------
FROM ${BUILD_IMAGE} AS build
# npm 11 reads the allowScripts map of package.json (strict-allow-scripts in .npmrc).
ARG NPM_VERSION=11.19.1
WORKDIR /app
RUN [ "$(npm --version)" = "$NPM_VERSION" ] || npm install -g "npm@$NPM_VERSION" --no-audit --no-fund
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
# Everything .dockerignore lets through: whatever `npm run build` builds, it finds.
COPY . .
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime ---------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime
ARG APP=scheduler
ENV NODE_ENV=production \
    APP=${APP}
WORKDIR /app
# Owned by root, read-only to the service: it runs as the base image's `node`
# user (uid 1000) and cannot change its own code.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY scripts/container/healthcheck.js ./scripts/container/healthcheck.js
USER node
# Documentation only; the ports are set by HTTP_PORT / GRPC_PORT (scheduler
# 3000 + 50051, registry 3001 + 50052, worker 3002).
EXPOSE 3000 3001 3002 50051 50052
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "scripts/container/healthcheck.js"]
# exec: node is PID 1's only child (or PID 1) and gets SIGTERM itself, so Nest's
# shutdown hooks run (a worker hands its tasks back). The flags are those of
# libs/common/src/bootstrap/service-node-flags.ts.
CMD ["sh", "-c", "exec node --max-semi-space-size=32 dist/apps/${APP}/apps/${APP}/src/main.js"]
