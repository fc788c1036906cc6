# Multi-stage build: compile TypeScript with dev dependencies, ship only runtime dependencies.
# No Docker engine runs on our CI machines, so this file is kept simple and is not built in CI.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
# `npm ci` runs `prepare` (tsc) and so builds dist/.
RUN npm ci --no-audit --no-fund --omit=optional

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev --omit=optional --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY gateway.example.yaml ./
# Mount your config at /app/gateway.yaml. Set server.admin to 0.0.0.0:9402 so Prometheus can scrape it.
USER node
EXPOSE 8402 9402
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:9402/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "--max-semi-space-size=32", "bin/x402-gateway.js"]
CMD ["--config", "/app/gateway.yaml"]
