# syntax=docker/dockerfile:1
# An agent runtime image for Amazon Bedrock AgentCore Runtime, which runs linux/arm64 containers
# that serve GET /ping and POST /invocations on 0.0.0.0:8080. One image serves every agent:
# `charter release deploy` configures each runtime through its environment (CHARTER_AGENT,
# CHARTER_ENVIRONMENT, CHARTER_GATEWAY_URL, CHARTER_MANIFEST_DIGEST, CHARTER_RELEASE_RECORD_DIGEST,
# CHARTER_AUDIT_SINK, and CHARTER_TENANT for a silo), and `charter agents serve` refuses to start
# on any manifest but the released one those digests name.
#
# Build context: this repository with `charter-home/` holding the release to serve (copied from
# a Charter home: keys/trusted-keys.json, keys/agent-identity.jwks.json, releases/). The ENTRYPOINT
# and CMD below are run as written by tests/runtime-image.test.ts (WORKDIR as the package root).

FROM --platform=linux/arm64 node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY . .
RUN npm run build && npm prune --omit=dev

FROM --platform=linux/arm64 node:24.22.3-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production CHARTER_HOME=/charter-home
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/policy-packs/packs ./policy-packs/packs
COPY --from=build /app/release-gates/environments ./release-gates/environments
COPY --chown=node:node charter-home/ /charter-home/
USER node
EXPOSE 8080
ENTRYPOINT ["node", "dist/cli/main.js", "agents", "serve"]
CMD ["--host", "0.0.0.0", "--port", "8080"]
