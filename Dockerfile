# gemgate production image (Node 20). Build: docker build -t gemgate .
# Run:   docker run -p 8000:8000 -v ./data:/app/data --env-file .env gemgate

# Compile the sources and gateway.config.ts to dist/ (TypeScript is a devDependency), then drop the devDependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary can be fetched.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json serve.ts gateway.config.ts ./
COPY scripts/build.js ./scripts/
COPY core ./core
COPY plugins ./plugins
COPY storage ./storage
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# What runs: dist/ and the production dependencies. package.json makes dist/*.js ES modules and maps `gemgate` to dist/.
# gateway.config.ts is the one dist/ was built from; one mounted over it at run time is compiled in memory at start
# (with a warning) and must import core and the bundled plugins as `gemgate` and `gemgate/plugins`.
FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8000 DATA_DIR=/app/data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/package.json /app/gateway.config.ts ./
RUN mkdir -p /app/data && chown -R node:node /app/data
USER node
VOLUME ["/app/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/serve.js"]
