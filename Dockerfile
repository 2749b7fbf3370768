# lp-backfill as a container for batch engines (Kubernetes Indexed Jobs, Cloud Run Jobs, AWS Batch
# array jobs): one task per shard, `--shard auto` reads the task index from the engine.
# Build: docker build -t lp-backfill .      Run: docker run --rm lp-backfill --help

FROM node:20-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
# no dependency of lp-backfill needs an install script
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY src ./src
COPY scripts ./scripts
COPY test/stand-ins ./test/stand-ins
COPY README.md ./
RUN npm run build

FROM node:20-slim
ENV NODE_ENV=production
# the runtime dependencies exactly as package-lock.json pins them (what the tests ran against)
WORKDIR /opt/lp-backfill
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY --from=build /src/dist/src ./dist/src
RUN chmod +x dist/src/cli/main.js && ln -s /opt/lp-backfill/dist/src/cli/main.js /usr/local/bin/lp-backfill
# the run directory is scratch space: with --state-to the run's state lives in GCS
RUN mkdir -p /work && chown node:node /work
USER node
WORKDIR /work
ENTRYPOINT ["lp-backfill"]
CMD ["--help"]
