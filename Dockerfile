# rdpsweep in a container: `docker build -t rdpsweep .`, then e.g.
#   docker run --rm -v /srv/rdpsweep:/data rdpsweep scan -i fleet.csv --csv fleet.csv
# Outside Docker, scripts/check-dockerfile.sh runs the builder stage's steps and lints this file.

# ---- builder: the Rust toolchain on the same Debian release (glibc, OpenSSL 3) as the runtime.
FROM rust:1.95.0-bookworm AS builder
WORKDIR /src
ENV CARGO_TERM_COLOR=never
COPY scripts/docker-build.sh scripts/docker-build.sh
# Dependencies first, against stub sources: this layer is rebuilt only when the lock file changes.
COPY Cargo.toml Cargo.lock ./
RUN scripts/docker-build.sh deps
COPY src src
# src/lab embeds certificates from here (include_bytes!).
COPY tests/fixtures tests/fixtures
RUN scripts/docker-build.sh app

# ---- runtime: glibc, libgcc, OpenSSL 3 (legacy-tls feature) and CA certificates, no shell.
# debian:bookworm-slim alone is ~75 MB unpacked; distroless cc-debian12 (~25 MB) keeps the image
# under 50 MB. `nonroot` is a rolling tag (distroless has no version tags): pin the digest when
# releasing, `FROM gcr.io/distroless/cc-debian12:nonroot@sha256:...` (docs/deploy.md).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /src/out/rdpsweep /usr/local/bin/rdpsweep
# A new named volume starts as a copy of this folder, so it is writable by the scan user.
COPY --from=builder --chown=65532:65532 /src/out/data /data
WORKDIR /data
VOLUME ["/data"]
# distroless' `nonroot` user; numeric so Kubernetes' runAsNonRoot can verify it.
USER 65532:65532
ENTRYPOINT ["rdpsweep"]
CMD ["--help"]
