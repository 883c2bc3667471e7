package logging_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/logging"
)

func TestEveryLineOfARequestCarriesItsIDs(t *testing.T) {
	var out bytes.Buffer
	log := logging.New(&out, slog.LevelInfo).With("component", "test")
	ctx := auth.WithClient(context.Background(), auth.Client{RequestID: "req-1", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736"})
	log.InfoContext(ctx, "in a request", "n", 1)
	log.Info("outside any request")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %q", out.String())
	}
	for _, want := range []string{`"request_id":"req-1"`, `"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"`, `"component":"test"`, `"n":1`} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("line %s lacks %s", lines[0], want)
		}
	}
	if strings.Contains(lines[1], "request_id") || strings.Contains(lines[1], "trace_id") {
		t.Errorf("a line outside a request has ids: %s", lines[1])
	}
}
