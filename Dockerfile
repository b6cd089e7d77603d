# gemgate container image -- UNTESTED: no Docker engine was available when it
# was written (paths and Debian 12 package names were checked; see
# docs/PACKAGING.md).
#
#   docker build -t gemini-gateway .
#   docker run -d -p 7860:7860 --env-file .env -v gemgate-data:/data gemini-gateway
#   docker-compose up -d          # with PostgreSQL 15, see docker-compose.yml
#
# Stages: web (node, builds web/dist) -> build (debian:12, compiles and
# installs into /stage) -> runtime (debian:12-slim, runtime libraries only).

# ---- 1. web console ---------------------------------------------------------------
# Debian 12's nodejs (18) is too old for the web toolchain (vite 8 needs
# node >= 20.19), so this stage uses the official node image on bookworm.
FROM node:22-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web/ ./
RUN npm run build && test -f dist/index.html

# ---- 2. daemon and TUI ---------------------------------------------------------------
FROM debian:12 AS build
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config ca-certificates \
      libmicrohttpd-dev libcurl4-openssl-dev libcjson-dev libsqlite3-dev libpq-dev \
      libssl-dev libncurses-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
COPY --from=web /src/web/dist /src/web/dist
# GEM_WERROR=OFF: a release build should not fail on a new compiler warning.
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DGEM_WERROR=OFF -DGEM_BUILD_WEB=OFF \
 && cmake --build /build -j"$(nproc)" --target gemgated gemctl-tui \
 && DESTDIR=/stage cmake --install /build --prefix /usr --strip \
 && test -f /stage/usr/share/gemgate/web/index.html \
 && /stage/usr/bin/gemgated --version

# ---- 3. runtime -----------------------------------------------------------------------
FROM debian:12-slim
ARG DEBIAN_FRONTEND=noninteractive
# runtime libraries of gemgated and gemctl-tui (the .deb's Depends), plus curl
# for the health check
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates curl libmicrohttpd12 libcurl4 libcjson1 libsqlite3-0 libpq5 libssl3 \
      libncursesw6 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 gemgate \
 && useradd --system --uid 10001 --gid gemgate --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin gemgate \
 && mkdir -p /data && chown gemgate:gemgate /data && chmod 0700 /data
# /usr only: the systemd unit (/lib/systemd) and /etc sample are not needed here
COPY --from=build /stage/usr/ /usr/
COPY --from=build /stage/etc/gemgate/gemgate.env /usr/share/doc/gemgate/gemgate.env.sample

ENV HOST=0.0.0.0 \
    PORT=7860 \
    DATA_DIR=/data
VOLUME ["/data"]
# gemgated also reads .env from its working directory (here: the volume)
WORKDIR /data
USER gemgate:gemgate
EXPOSE 7860
# SIGTERM drains streams for SHUTDOWN_GRACE (20 s): stop with `docker stop -t 30`
# (docker-compose.yml sets stop_grace_period).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${PORT:-7860}/healthz" || exit 1
ENTRYPOINT ["/usr/bin/gemgated"]
