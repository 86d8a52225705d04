# Latchkey container image (used by docker-compose.yml).
# The image's Node 24 runs the TypeScript sources directly (type stripping),
# so the `node` devDependency, which pins Node 24 for npm scripts, is left out
# with the other devDependencies.
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY server ./server
COPY views ./views
COPY migrations ./migrations
COPY bin ./bin
# The files stay root's: the process cannot rewrite its own code.
USER node
EXPOSE 3000
# Readiness (Postgres, Redis, migrations, keys), on the main listener. The
# image has no curl: Node's fetch asks. /healthz/... answers whatever the
# Host, so 127.0.0.1 works under any ISSUER.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz/ready', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "server/main.ts"]
