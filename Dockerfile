# logseal: multi-stage image. The build stage has the toolchain node-gyp needs for the lz4 addon and logseal's
# own addon (GHASH, base64); the runtime stage has production dependencies only and runs as a non-root user.
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json binding.gyp ./
COPY agent/native ./agent/native
RUN npm ci
COPY tsconfig.json ./
COPY agent ./agent
COPY emulators ./emulators
COPY native-bench ./native-bench
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /opt/logseal
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/build/Release/logseal_native.node ./build/Release/logseal_native.node
COPY package.json ./
COPY config/example.yaml /etc/logseal/logseal.yaml
RUN groupadd --system logseal \
 && useradd --system --gid logseal --home-dir /var/lib/logseal --shell /usr/sbin/nologin logseal \
 && mkdir -p /var/lib/logseal \
 && chown logseal:logseal /var/lib/logseal \
 && chmod 0700 /var/lib/logseal
USER logseal
VOLUME ["/var/lib/logseal"]
EXPOSE 9464
ENTRYPOINT ["node", "/opt/logseal/dist/agent/cli/main.js"]
CMD ["run", "-c", "/etc/logseal/logseal.yaml"]
