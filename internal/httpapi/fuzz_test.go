package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/api"
	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/httpapi"
	"github.com/ecommerce/auth-service/internal/password"
	"github.com/ecommerce/auth-service/internal/storetest"
	"github.com/ecommerce/auth-service/internal/token"
)

// fuzzPaths are the operations that take a body, by index.
var fuzzPaths = []string{"/auth/token/", "/auth/token/refresh/", "/auth/token/verify/", "/auth/logout/", "/auth/logout/all/"}

// FuzzRequestBody sends arbitrary bodies, with arbitrary media types, to
// every operation that takes one, through the whole handler on SQLite (with
// the login throttle on): whatever comes in, the status is one the document
// lists for the operation, never a 5xx, and every error is a JSON Error.
func FuzzRequestBody(f *testing.F) {
	st := storetest.Open(f, "sqlite")
	keys, err := token.NewHS256([]byte(testSecret))
	if err != nil {
		f.Fatal(err)
	}
	hasher, err := password.New(cheapParams)
	if err != nil {
		f.Fatal(err)
	}
	params := auth.Params{AccessTTL: 5 * time.Minute, RefreshTTL: time.Hour, ReuseInterval: 10 * time.Second,
		Throttle: auth.ThrottleParams{MaxFailures: 5, AccountMaxFailures: 100, AddressMaxFailures: 50, Window: time.Minute, MaxBackoff: time.Minute}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := auth.New(st, keys, hasher, time.Now, params, log)
	if _, err := svc.CreateUser(context.Background(), "fuzz@example.com", "fuzz-password", false, false); err != nil {
		f.Fatal(err)
	}
	pair, err := svc.Login(context.Background(), "fuzz@example.com", "fuzz-password")
	if err != nil {
		f.Fatal(err)
	}
	handler, err := httpapi.New(svc, httpapi.Options{Log: log})
	if err != nil {
		f.Fatal(err)
	}
	doc, err := api.Load()
	if err != nil {
		f.Fatal(err)
	}

	for _, seed := range []struct {
		op          uint8
		contentType string
		body        string
	}{
		{0, "application/json", `{"email":"fuzz@example.com","password":"fuzz-password"}`},
		{0, "application/json", `{"email":"a\u0000@b","password":"x"}`},
		{1, "application/json", `{"refresh":"` + pair.Refresh + `"}`},
		{2, "application/json; charset=utf-8", `{"token":"` + pair.Access + `"}`},
		{3, "text/plain", `{"refresh":"x"}`},
		{4, "", ``},
	} {
		f.Add(seed.op, seed.contentType, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, op uint8, contentType string, body []byte) {
		path := fuzzPaths[int(op)%len(fuzzPaths)]
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body)))
		if contentType != "" && !strings.ContainsAny(contentType, "\r\n") {
			req.Header.Set("Content-Type", contentType)
		}
		if op%len8(fuzzPaths) == 4 { // logout all takes a bearer token
			req.Header.Set("Authorization", "Bearer "+pair.Access)
		}
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)

		documented := doc.Paths.Find(path).Post.Responses
		if w.Code >= 500 || documented.Value(strconv.Itoa(w.Code)) == nil {
			t.Fatalf("POST %s %q %q: status %d, not one the document lists (or a 5xx): %s", path, contentType, body, w.Code, w.Body)
		}
		if w.Code < 400 {
			return
		}
		var e struct {
			Detail string `json:"detail"`
			Code   string `json:"code"`
		}
		if !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") || json.Unmarshal(w.Body.Bytes(), &e) != nil ||
			e.Code == "" || e.Detail == "" {
			t.Fatalf("POST %s %q %q: %d is not a JSON Error: %q", path, contentType, body, w.Code, w.Body)
		}
	})
}

func len8[T any](s []T) uint8 { return uint8(len(s)) }
