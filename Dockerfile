# syntax=docker/dockerfile:1
# Gemini Gateway. Multi-arch: docker buildx build --platform linux/amd64,linux/arm64 -t gemini-gateway .
# Pure JavaScript dependencies only (no native modules), so the same image builds for a Raspberry Pi.
# package.json stays in the image for "type": "module" (the bundle is ES modules).

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm ci --ignore-scripts --no-audit --no-fund
# One bundle (dist/gateway.js, dist/gateway-cli.js, dist/chunks/) holds every dependency: the
# runtime image has no node_modules (scripts/bundle.mjs).
RUN node scripts/bundle.mjs

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    CONFIG_PATH=/app/config/config.yaml \
    COOKIE_PATH=/app/cookies/gemini.json
WORKDIR /app
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY admin-ui ./admin-ui
COPY config/config.example.yaml ./config.example.yaml
# The node image's "node" user is uid 1000: it owns only the writable volumes.
RUN mkdir -p /app/config /app/cookies /app/logs && chown 1000:1000 /app/cookies /app/logs
USER 1000
EXPOSE 8022
VOLUME ["/app/config", "/app/cookies", "/app/logs"]
# No curl in a slim image: node asks /health itself.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.SERVER_PORT||8022)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/gateway.js"]
