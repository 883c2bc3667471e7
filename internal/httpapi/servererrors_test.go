package httpapi_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/gen/oapi"
	"github.com/ecommerce/auth-service/internal/httpapi"
)

// rawRequest writes req as it is on a new connection to addr and reads the
// answer.
func rawRequest(t *testing.T, addr, req string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer to %.60q: %v", req, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// What net/http answers by itself, before any handler, is JSON in the Error
// schema too; what the handler answers goes through untouched.
func TestServerOwnErrorsAreJSON(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler:        http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "handled") }),
		MaxHeaderBytes: 64 << 10,
	}
	go srv.Serve(httpapi.JSONServerErrors(ln))
	t.Cleanup(func() { srv.Close() })
	addr := ln.Addr().String()

	for _, c := range []struct {
		name, req string
		status    int
		code      string
	}{
		{"a control character in a header", "GET /auth/health/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\x01b\r\n\r\n", 400, "parse_error"},
		{"no Host", "GET /auth/health/ HTTP/1.1\r\n\r\n", 400, "parse_error"},
		{"a malformed request line", "GET\r\n\r\n", 400, "parse_error"},
		{"headers far over the limit", "GET /auth/health/ HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 100<<10) + "\r\n\r\n", 431, "request_header_fields_too_large"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := rawRequest(t, addr, c.req)
			var e oapi.Error
			if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != "application/json" ||
				json.Unmarshal(body, &e) != nil || e.Code != c.code || e.Detail == "" {
				t.Errorf("%d %q %s; want %d, application/json, code %s", resp.StatusCode, resp.Header.Get("Content-Type"), body, c.status, c.code)
			}
		})
	}
	resp, body := rawRequest(t, addr, "GET /auth/health/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if resp.StatusCode != 200 || string(body) != "handled" {
		t.Errorf("a handled request: %d %q", resp.StatusCode, body)
	}
}
