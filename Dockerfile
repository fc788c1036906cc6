# Multi-stage build: compile TypeScript with dev dependencies, ship only runtime dependencies.
# No Docker engine runs on our CI machines, so this file is kept simple and is not built in CI.
FROM node:20-bookworm-slim AS build
# The ledger's better-sqlite3 builds from source (.npmrc build-from-source=true) against this Node.
RUN apt-get update && apt-get install -y --no-install-recommends build-essential python3 \
  && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local
WORKDIR /app
COPY package.json package-lock.json tsconfig.json .npmrc ./
COPY src ./src
# `npm ci` runs `prepare` (tsc) and so builds dist/; then only runtime dependencies are kept, with
# the native module built here (the runtime stage has no compiler).
RUN npm ci --no-audit --no-fund --omit=optional && npm prune --omit=dev --omit=optional

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY gateway.example.yaml ./
# Mount your config at /app/gateway.yaml. Set server.admin to 0.0.0.0:9402 so Prometheus can scrape it.
# The ledger (the book of record) lives on the /data volume, owned by the runtime user.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 8402 9402
# Liveness only (/healthz), on the admin port the config names (server.admin): never /readyz, which
# says whether a load balancer should send traffic (a facilitator outage is unready, not dead).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "bin/healthcheck.js", "/app/gateway.yaml"]
ENTRYPOINT ["node", "--max-semi-space-size=32", "bin/x402-gateway.js"]
CMD ["start", "--config", "/app/gateway.yaml", "--ledger", "/data/x402-ledger.sqlite"]
