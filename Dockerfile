# Latchkey container image (used by docker-compose.yml).
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY server ./server
COPY views ./views
COPY migrations ./migrations
COPY bin ./bin
USER node
EXPOSE 3000
CMD ["node", "server/main.ts"]
