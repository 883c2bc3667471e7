# auth-service image: a static Go binary on distroless, run as a non-root user.
#   docker build -t auth-service .
#   docker run -e AUTH_SECRET_KEY=... -p 8000:8000 auth-service          # serve (the default)
#   docker run ... auth-service migrate | createsuperuser | keygen --alg ES256 | ...

FROM golang:1.26 AS build
WORKDIR /src
ENV CGO_ENABLED=0
# Modules first: this layer is rebuilt only when go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/auth-service ./cmd/auth-service
# The runtime image has no shell: make the writable data directory here.
RUN mkdir -p /out/data

# static-debian12 has CA certificates, tzdata and /etc/passwd, but no shell or libc: enough
# for a CGO_ENABLED=0 binary (pure-Go SQLite included).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/auth-service /usr/local/bin/auth-service
# Writable by the service user: the embedded default database lives here.
COPY --from=build --chown=65532:65532 /out/data /data
ENV PATH=/usr/local/bin:/usr/bin:/bin \
    AUTH_LISTEN_ADDR=:8000
# Without AUTH_DATABASE_URL the service uses its embedded default, ./auth-service.db, here.
# Mount a volume (-v auth-data:/data) to keep it; compose uses PostgreSQL.
WORKDIR /data
# 65532 is distroless' "nonroot"; numeric so Kubernetes' runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 8000
# `healthcheck` GETs /auth/health/ on AUTH_LISTEN_ADDR and exits 0 when it answers.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
    CMD ["auth-service", "healthcheck"]
ENTRYPOINT ["auth-service"]
CMD ["serve"]
