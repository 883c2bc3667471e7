package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// logLines returns the JSON log lines whose fields include all of want.
func logLines(t *testing.T, logs string, want map[string]string) []map[string]any {
	t.Helper()
	var found []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil {
			continue
		}
		match := true
		for k, v := range want {
			if s, _ := m[k].(string); s != v {
				match = false
			}
		}
		if match {
			found = append(found, m)
		}
	}
	return found
}

// Every line logged for a request carries its id, and the gateway's trace id
// when a valid traceparent came with it; the access log names the operation.
func TestLogsJoinUp(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		const trace = "4bf92f3577b34da6a3ce929d0e0e4736"
		e.createUser("log@example.com", "right-password")
		e.request(http.MethodPost, "/auth/token/", "application/json", `{"email":"log@example.com","password":"right-password"}`,
			map[string]string{"X-Request-ID": "req-login", "Traceparent": "00-" + trace + "-00f067aa0ba902b7-01"})
		lines := logLines(t, e.logs.String(), map[string]string{"request_id": "req-login"})
		if len(lines) == 0 {
			t.Fatalf("no log line carries the request id:\n%s", e.logs)
		}
		for _, l := range lines {
			if l["trace_id"] != trace {
				t.Errorf("line %v lacks trace_id %s", l, trace)
			}
		}
		if access := logLines(t, e.logs.String(), map[string]string{"request_id": "req-login", "msg": "request"}); len(access) != 1 || access[0]["operation"] != "obtainToken" {
			t.Errorf("access log = %v, want one line with operation obtainToken", access)
		}

		for _, bad := range []string{"junk", "00-" + strings.Repeat("0", 32) + "-00f067aa0ba902b7-01", "ff-" + trace + "-00f067aa0ba902b7-01"} {
			e.request(http.MethodGet, "/auth/me/", "", "", map[string]string{"X-Request-ID": "req-bad", "Traceparent": bad})
		}
		for _, l := range logLines(t, e.logs.String(), map[string]string{"request_id": "req-bad"}) {
			if _, ok := l["trace_id"]; ok {
				t.Errorf("a malformed traceparent was logged as %v", l["trace_id"])
			}
		}
	})
}

// Health checks come every few seconds from every orchestrator: their
// access log is at debug level, other requests' at info.
func TestHealthAccessLogIsDebug(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		e.request(http.MethodGet, "/auth/health/", "", "", map[string]string{"X-Request-ID": "req-health"})
		e.request(http.MethodGet, "/auth/me/", "", "", map[string]string{"X-Request-ID": "req-me"})
		for id, level := range map[string]string{"req-health": "DEBUG", "req-me": "INFO"} {
			lines := logLines(t, e.logs.String(), map[string]string{"request_id": id, "msg": "request"})
			if len(lines) != 1 || lines[0]["level"] != level {
				t.Errorf("%s: access log %v, want one line at %s", id, lines, level)
			}
		}
	})
}
