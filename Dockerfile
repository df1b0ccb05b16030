# syntax=docker/dockerfile:1
#
# One image per service, from one build: the three apps are compiled together
# in the `build` stage; the runtime stage keeps the compiled output and the
# production dependencies only, and runs the app named by APP.
#
#   docker build -t zk-scheduler .                         # APP=scheduler
#   docker build -t zk-scheduler-worker --build-arg APP=worker .
#   docker run -e APP=registry zk-scheduler                # or pick it at run time
#
# See docs/containers.md.

ARG NODE_VERSION=22

# ---- build: npm ci (with dev dependencies), nest build, then prune -----------------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
# npm 11 reads the allowScripts map of package.json (strict-allow-scripts in .npmrc).
RUN npm install -g npm@11 --no-audit --no-fund
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY apps ./apps
COPY libs ./libs
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime ---------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ARG APP=scheduler
ENV NODE_ENV=production \
    APP=${APP}
WORKDIR /app
# The `node` user (uid 1000) of the base image: nothing runs as root.
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node scripts/container/healthcheck.js ./scripts/container/healthcheck.js
USER node
# Documentation only; the ports are set by HTTP_PORT / GRPC_PORT (scheduler
# 3000 + 50051, registry 3001 + 50052, worker 3002).
EXPOSE 3000 3001 3002 50051 50052
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "scripts/container/healthcheck.js"]
# exec: node is PID 1's only child (or PID 1) and gets SIGTERM itself, so Nest's
# shutdown hooks run (a worker hands its tasks back).
CMD ["sh", "-c", "exec node dist/apps/${APP}/apps/${APP}/src/main.js"]
