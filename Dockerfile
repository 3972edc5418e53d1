# syntax=docker/dockerfile:1
# The drchrono-sync service image (package `server`, binary `drchrono-sync`).
# Built by compose.yaml; by hand: `docker build -t drchrono-sync .`
#
# Only the paths the workspace needs are copied, so the build context's
# target/ (gigabytes) and .env (secrets) never enter the image.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
# apalis-postgres checks its SQL with sqlx macros; use the query data it
# ships instead of a database at build time.
ENV SQLX_OFFLINE=true
COPY Cargo.toml Cargo.lock ./
COPY .cargo .cargo
COPY server server
COPY jobs jobs
COPY scheduler scheduler
COPY migrations migrations
COPY tests tests
COPY xtask xtask
# Cache mounts keep the registry and build between image builds; the binary
# is copied out because the target mount is not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p server --bin drchrono-sync \
    && cp target/release/drchrono-sync /usr/local/bin/drchrono-sync

FROM debian:bookworm-slim AS runtime
# CA roots for HTTPS to DrChrono and S3; nothing else is needed at run time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --no-create-home drchrono
COPY --from=build /usr/local/bin/drchrono-sync /usr/local/bin/drchrono-sync
USER drchrono
# Inside a container the service must listen beyond loopback.
ENV BIND_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["drchrono-sync"]
CMD ["all"]
