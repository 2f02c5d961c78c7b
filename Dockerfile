# Tradeport container image (docs/DEPLOY.md). Two stages: a Rust builder and a slim runtime.
#
#   docker build -t tradeport:0.1.0 .
#   docker run --rm -p 8080:8080 -v tradeport-data:/var/lib/tradeport \
#     -e DATABASE_URL=postgres://... -e TRADEPORT_JWT_SECRET=... tradeport:0.1.0
#
# tests/deploy checks this file (stages, COPY sources against .dockerignore, USER, EXPOSE,
# ENTRYPOINT/CMD, the binary name, the Rust version) since no Docker engine runs on the
# development machines.

# Cargo.toml's rust-version is 1.89 (async-stripe 1.0 needs it).
ARG RUST_VERSION=1.89
ARG DEBIAN_RELEASE=bookworm

# ---------------------------------------------------------------------------------------------
FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS builder

# diesel links libpq (pq-sys); mimalloc and ring build C with the image's gcc.
# Packages are not pinned to versions (hadolint DL3008): Debian drops superseded versions from
# its mirrors, and a pin would break the build at the next point release; the base image tag
# fixes the Debian release.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /build

# Dependencies first, in their own layers: they change far less often than the code. A stub
# crate with the real manifest and lock file downloads and compiles every dependency; the
# layers are reused until Cargo.toml or Cargo.lock change.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src tests/api \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && echo 'fn main() {}' > tests/api/main.rs \
 && mkdir -p tests/deploy && echo 'fn main() {}' > tests/deploy/main.rs \
 && mkdir -p tests/faults && echo 'fn main() {}' > tests/faults/main.rs \
 && cargo fetch --locked \
 && cargo build --release --locked --bin tradeport \
 && rm -rf src tests \
    target/release/tradeport target/release/deps/tradeport-* target/release/deps/libtradeport-* \
    target/release/.fingerprint/tradeport-*

# The sources. templates/, static/, config/default.toml and migrations/ are compiled in as well
# (include_str!: the contract templates, the CSS/JS, the defaults, every migration).
COPY src ./src
COPY config ./config
COPY migrations ./migrations
COPY static ./static
COPY templates ./templates
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked --bin tradeport \
 && strip target/release/tradeport

# ---------------------------------------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim AS runtime

# Only what the binary needs at run time:
#   libpq5           diesel's PostgreSQL client library (and its TLS for sslmode=require);
#   ca-certificates  CA roots for PostgreSQL sslmode=verify-full (sslrootcert=/etc/ssl/certs/
#                    ca-certificates.crt); HTTPS clients (Meilisearch, Stripe, webhooks) use
#                    rustls with compiled-in roots;
#   fonts-dejavu-core  invoices and statements are set in DejaVu Sans (documents.font_dir).
# The binary runs no other programs (pdftotext is for the tests, python3 for a benchmark only).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 ca-certificates fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

# A fixed numeric user (10001, also the chart's runAsUser and fsGroup), so Kubernetes'
# runAsNonRoot can check it without a passwd lookup.
RUN groupadd --gid 10001 tradeport \
 && useradd --uid 10001 --gid 10001 --home-dir /var/lib/tradeport --no-create-home \
      --shell /usr/sbin/nologin tradeport \
 && mkdir -p /var/lib/tradeport/media /var/lib/tradeport/exchange /var/lib/tradeport/edo \
 && chown -R 10001:10001 /var/lib/tradeport

WORKDIR /app
# Read at run time from the working directory: templates/ (pages, mail, locales),
# config/<profile>.toml (default.toml is compiled in), tenants/ (the demo manifests that
# `tradeport demo` and `tenant create --from` read). static/ is compiled in; it is copied for
# operators who serve it from a CDN or a sidecar.
COPY --from=builder /build/target/release/tradeport /usr/local/bin/tradeport
COPY templates ./templates
COPY static ./static
COPY config ./config
COPY tenants ./tenants
# The migrations are compiled into the binary (src/db/migrate.rs, include_str!) and
# `tradeport migrate` runs those. The SQL is shipped too so that an operator can read what
# a release will run (or apply it by hand with psql) from the very image being deployed.
COPY migrations ./migrations

# Uploaded media, 1C exchange files and EDO folders: absolute paths on the volume (relative
# ones would be resolved against the working directory, which is read-only in Kubernetes).
ENV TRADEPORT_PROFILE=prod \
    TRADEPORT_BIND=0.0.0.0:8080 \
    TRADEPORT__SERVER__MEDIA_DIR=/var/lib/tradeport/media \
    TRADEPORT__EXCHANGE__DIR=/var/lib/tradeport/exchange \
    TRADEPORT__DOCUMENTS__EDO_DIR=/var/lib/tradeport/edo
VOLUME ["/var/lib/tradeport"]

USER 10001:10001

# 8080: the web server (TRADEPORT_BIND); 9090: the worker's /healthz, /readyz and /metrics
# (worker.bind, set by the Helm chart).
EXPOSE 8080 9090

ENTRYPOINT ["tradeport"]
CMD ["serve"]
