# syntax=docker/dockerfile:1
# Build: the Temporal SDK needs protoc.
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends protobuf-compiler cmake && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin switchboard && cp target/release/switchboard /switchboard

# Run: a slim image with CA certificates (Twilio, LLM providers over TLS) and curl for health checks.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 switchboard
COPY --from=build /switchboard /usr/local/bin/switchboard
USER switchboard
ENV API_BIND=0.0.0.0:8000
EXPOSE 8000
ENTRYPOINT ["switchboard"]
CMD ["api"]
