# The registry's runtime image: the API, the worker and the migrate job (docker-compose.yml picks
# the entry point with `command`). TypeScript runs through tsx as in the npm scripts; there is no
# build step to drift from what the tests ran.
FROM node:24-bookworm-slim

ENV NODE_ENV=production
WORKDIR /app

# Dependencies first, so source edits reuse this layer. --omit=dev leaves out the test tooling and
# the `node` dev dependency (it only provides Node 24 to npm scripts on machines with an older Node).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY . .

# Run unprivileged (the image's `node` user).
USER node
EXPOSE 3000
CMD ["node", "--import", "tsx", "api/main.ts"]
