# pman-ts container image (architecture.md §11).
#
#   docker build -t pman-ts .                  the standard build: npm ci + tsc inside the build stage
#   docker build --build-arg PREBUILT=1 …      CI only: the build context already holds dist/ and the
#                                              production node_modules (scripts/deploy-proof.sh stages
#                                              it), because no registry is reachable inside CI builds
#
# On Docker and Swarm the service needs the engine's socket: run it as root, or keep the image's
# user 1000 and add the socket's group (`--group-add "$(stat -c %g /var/run/docker.sock)"`, or
# `user: "1000:<gid>"` in a stack file). Either way the socket makes the container root-equivalent
# on that host.

# The base is an argument so a mirror or a digest-pinned Node 20 image can be swapped in.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
ARG PREBUILT=0
WORKDIR /app
# Dependencies first, so editing src/ does not invalidate the npm ci layer.
COPY package.json package-lock.json ./
# better-sqlite3 (the job store) is a native addon: its install takes a prebuilt binary when one
# matches and compiles it otherwise, which needs python3, make and g++ (this stage only).
RUN if [ "$PREBUILT" = 1 ]; then echo "PREBUILT=1: taking node_modules and dist/ from the context"; \
    else apt-get update -qq \
      && apt-get install -y -qq --no-install-recommends python3 make g++ >/dev/null \
      && rm -rf /var/lib/apt/lists/* \
      && npm ci --no-audit --no-fund; fi
COPY . .
# Leave exactly what the runtime needs in /app: dist/ and the production dependencies.
RUN if [ "$PREBUILT" = 1 ]; then \
      [ -f dist/src/main.js ] && [ -d node_modules ] && [ -d ui ] \
        || { echo "PREBUILT=1 needs dist/src/main.js, node_modules and ui/ in the build context" >&2; exit 1; }; \
    else npm run build && npm prune --omit=dev --no-audit --no-fund; fi
# The addon must load on this base (a PREBUILT=1 context brings the host's build: same libc?), and
# only the addon itself is needed at run time, not the SQLite sources or the compiler's leftovers.
RUN node -e "require('better-sqlite3')(':memory:').close()" \
      || { echo "better-sqlite3's native addon does not load on this base image (rebuild node_modules on the same Debian/glibc as NODE_IMAGE)" >&2; exit 1; } \
 && cd node_modules/better-sqlite3 \
 && rm -rf deps src binding.gyp build/Makefile build/*.mk build/config.gypi build/deps \
      build/Release/.deps build/Release/obj build/Release/obj.target build/Release/sqlite3.a \
      build/Release/test_extension.node \
 && node -e "require('better-sqlite3')(':memory:').close()"

FROM ${NODE_IMAGE} AS runtime
# Empty means "the version in package.json"; pman's BUILD_VERSION overrides server_version.
ARG BUILD_VERSION=
LABEL org.opencontainers.image.title="pman-ts" \
      org.opencontainers.image.description="A TypeScript, drop-in compatible successor to pman, the ChRIS process manager" \
      org.opencontainers.image.version="${BUILD_VERSION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.url="https://chrisproject.org" \
      org.opencontainers.image.source="https://github.com/FNNDSC/pman" \
      org.opencontainers.image.vendor="FNNDSC" \
      org.chrisproject.role="pman"
# STATE_DIR: the job store (<STATE_DIR>/pman.db, SQLite). Its folder belongs to the service user
# with mode 0700, and is a volume: `docker run` gives it an anonymous volume when nothing else is
# mounted there, but only a named volume (`-v pman-state:/var/lib/pman`, as swarm/stack.yml does)
# or a PVC keeps the job history across a new container. Docker copies this owner and mode into a
# new named volume.
ENV NODE_ENV=production \
    BUILD_VERSION=${BUILD_VERSION} \
    STATE_DIR=/var/lib/pman
WORKDIR /app
RUN mkdir -p /var/lib/pman && chown 1000:1000 /var/lib/pman && chmod 0700 /var/lib/pman
# Owned by root and read-only for the service user: the service never writes its own code.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The dashboard's files (/ui/, /docs), served as they are; Swagger UI comes with node_modules.
COPY --from=build /app/ui ./ui
# The `pman` command on PATH. A wrapper, not a symlink: it needs no shebang or exec bit on main.js,
# and maps SECRET_KEY_FILE (how Docker and Swarm secrets arrive) onto SECRET_KEY. `exec` keeps
# node as the process that receives SIGTERM.
RUN printf '%s\n' \
      '#!/bin/sh' \
      'if [ -z "${SECRET_KEY:-}" ] && [ -n "${SECRET_KEY_FILE:-}" ]; then' \
      '  SECRET_KEY="$(cat "$SECRET_KEY_FILE")" || exit 1' \
      '  export SECRET_KEY' \
      'fi' \
      'exec node /app/dist/src/main.js "$@"' \
      >/usr/local/bin/pman \
 && chmod 755 /usr/local/bin/pman
# Numeric, so Kubernetes can verify runAsNonRoot and a base without /etc/passwd still works.
USER 1000
VOLUME /var/lib/pman
EXPOSE 5010
# node, not curl: the slim image has no curl. /health answers 200 whenever the process serves.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:5010/health',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))"]
CMD ["pman", "--ip", "0.0.0.0", "--port", "5010"]
