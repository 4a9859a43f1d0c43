# syntax=docker/dockerfile:1
# Hippodrome's image: one release build of the orchestrator, which serves every built-in fake
# (`orchestrator serve fake-cell|fake-cognito|webhook-router|aws-gateway`) and runs the exports'
# seed job (`orchestrator seed-job`). moto runs from its official image (motoserver/moto, pinned to
# fixtures/moto-requirements.txt by `orchestrator export`), not from this one.
#
#   docker build -t hippodrome:latest .
#   docker run --rm -p 127.0.0.1:9001:9001 hippodrome:latest serve fake-cell --bind 0.0.0.0
#
# Not built on the development machines or in CI (no container engine there): hadolint lints it
# (tests/export/validate.sh) and README.md says what was and was not run.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS build
WORKDIR /src
COPY . .
# Cache mounts keep the registry and the target dir between builds; the binary is copied out of
# the (cached, not layered) target dir.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p orchestrator \
    && install -D -m 0755 target/release/orchestrator /out/orchestrator

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# curl: the HEALTHCHECK and the exports' Compose healthchecks; ca-certificates: a real cell or
# AWS over TLS. Versions float with Debian's security updates on purpose.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --gid 10001 hippodrome \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /data --shell /usr/sbin/nologin hippodrome \
    && mkdir -p /data /app \
    && chown 10001:10001 /data /app
COPY --from=build /out/orchestrator /usr/local/bin/orchestrator
# State lives on a volume; /app is the project root (an empty hippodrome.toml-less project).
VOLUME ["/data"]
WORKDIR /app
ENV HIPPODROME_PROJECT_ROOT=/app \
    HIPPODROME_HEALTH_URL=http://127.0.0.1:9001/healthz
USER 10001:10001
EXPOSE 9001 9003 9006 9009
# One image serves every built-in: each export sets HIPPODROME_HEALTH_URL to the service's own
# /healthz (and Compose and Kubernetes also probe it themselves).
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["sh", "-c", "curl -fsS -o /dev/null \"$HIPPODROME_HEALTH_URL\" || exit 1"]
ENTRYPOINT ["orchestrator"]
CMD ["--help"]
