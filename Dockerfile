# aidsafe-mcp as a container: MCP over stdio by default (`docker run -i --rm aidsafe-mcp`), or Streamable
# HTTP with `serve --http --host 0.0.0.0` (a token in AIDSAFE_HTTP_TOKEN is then required).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    AIDSAFE_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY policies ./policies
COPY views ./views
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 3333
ENTRYPOINT ["node", "/app/dist/cli.js"]
CMD ["serve"]
