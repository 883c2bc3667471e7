# Everyday commands. `make test` is the test command of the README and CI.
GO       ?= go
BIN      ?= bin/auth-service
TS_DIR   := clients/ts

.PHONY: all generate generate-go generate-ts check-generated vendor-swagger-ui build run test lint e2e image-test bench fuzz loginstorm clean

all: build

## generate: regenerate all code from api/openapi.yaml and sql/ (generator versions pinned in go.mod / package-lock.json)
generate: generate-go generate-ts

generate-go:
	$(GO) tool oapi-codegen -config oapi.yaml api/openapi.yaml
	$(GO) tool oapi-codegen -config oapi-client.yaml api/openapi.yaml
	$(GO) tool sqlc generate

generate-ts: $(TS_DIR)/node_modules
	cd $(TS_DIR) && npm run --silent generate

$(TS_DIR)/node_modules: $(TS_DIR)/package-lock.json
	cd $(TS_DIR) && npm ci --no-audit --no-fund
	@touch $@

## check-generated: fail if regenerating changes anything under gen/
check-generated: generate
	@git add -N gen/ && git diff --exit-code --stat -- gen/ || \
		{ echo "gen/ is out of date: run 'make generate' and commit the result"; exit 1; }

## vendor-swagger-ui: copy Swagger UI (the version pinned in clients/ts/package.json) into internal/httpapi/docs/swagger-ui
vendor-swagger-ui: $(TS_DIR)/node_modules
	cd $(TS_DIR) && npm run --silent vendor-swagger-ui

## build: a static binary in bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/auth-service

## run: serve on the embedded SQLite default (no database server needed)
run:
	$(GO) run ./cmd/auth-service serve

## test: vet, then every test with the race detector (PostgreSQL at AUTH_TEST_DATABASE_URL)
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

## lint: formatting, vet, the OpenAPI linter, tsc, and the vendored Swagger UI against its pin
lint: $(TS_DIR)/node_modules
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
		if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	cd $(TS_DIR) && npm run --silent lint-spec && npm run --silent typecheck && npm run --silent vendor-swagger-ui -- --check

## e2e: two replicas and nginx on loopback, driven by the generated Go and TypeScript clients
e2e: $(TS_DIR)/node_modules
	$(GO) test -count=1 -tags e2e -v ./internal/e2e/

## fuzz: run each fuzz target for FUZZTIME (default 20s); their seed corpora (testdata/fuzz/) also run in `make test`
## A run that ends in "context deadline exceeded" without writing a failing input is a race in Go's
## fuzzing coordinator at the end of -fuzztime (go.dev/issue/75804, fixed in Go 1.27, not in 1.26),
## not a finding: it is run once more. A finding always writes its input and fails the run.
FUZZTIME ?= 20s
FUZZ_TARGETS := ./internal/httpapi:FuzzRequestBody ./internal/token:FuzzParse ./internal/password:FuzzParseStoredHash \
	./internal/userimport:FuzzParse ./internal/config:FuzzLoad
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "== $$name in $$pkg for $(FUZZTIME)"; \
		if ! out=$$($(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) $$pkg 2>&1); then \
			echo "$$out"; \
			case "$$out" in *"Failing input written"*|*"fuzz: minimizing"*) exit 1;; *"context deadline exceeded"*) ;; *) exit 1;; esac; \
			echo "== $$name: Go's fuzzing deadline race (go.dev/issue/75804), no failing input; once more"; \
			$(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) $$pkg; \
		else echo "$$out" | tail -3; fi; \
	done

## loginstorm: 1,000 concurrent logins against the service on a fresh PostgreSQL database (README, "Abuse and failure behaviour")
loginstorm:
	$(GO) build -o bin/loginstorm ./bench/cmd/loginstorm
	bin/loginstorm

## bench: the service against the bare baseline (bench/) on a fresh PostgreSQL database; knobs BENCH_DURATION, BENCH_CONNS, ... (see bench/cmd/bench)
bench:
	$(GO) build -o bin/bench ./bench/cmd/bench
	bin/bench
## image-test: build the Dockerfile with podman and run the image on SQLite and PostgreSQL (deploy/image-test.sh)
image-test:
	bash deploy/image-test.sh

clean:
	rm -rf bin
