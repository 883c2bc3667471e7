package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/config"
	"github.com/ecommerce/auth-service/internal/storetest"
	"github.com/ecommerce/auth-service/internal/webhook"
)

func TestUsersCommands(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			url := storetest.URL(t, kind)
			base := []string{"AUTH_DATABASE_URL", url, "AUTH_SECRET_KEY", testSecret, "AUTH_MIGRATE_ON_START", "true"}
			users := func(stdin string, env []string, args ...string) (string, error) {
				t.Helper()
				var out, logs bytes.Buffer // the result on stdout, the log on stderr
				err := run(context.Background(), append([]string{"users"}, args...), envMap(append(base, env...)...), strings.NewReader(stdin), &out, &logs)
				return out.String(), err
			}
			pw := []string{"AUTH_USER_PASSWORD", "correct horse battery staple"}
			out, err := users("", pw, "create", "clerk@example.com", "--role", "support", "--staff", "--role", "catalog:write")
			if err != nil || !strings.Contains(out, "User created") {
				t.Fatalf("create: %v\n%s", err, out)
			}
			if _, err := users("", pw, "create", "clerk@example.com"); err == nil || !strings.Contains(err.Error(), "already exists") {
				t.Errorf("create twice: %v", err)
			}
			if _, err := users("", []string{"AUTH_USER_PASSWORD", "pw-12345"}, "create", "weak@example.com"); err == nil || !strings.Contains(err.Error(), "too short") {
				t.Errorf("create with a weak password: %v", err)
			}
			if _, err := users("", []string{"AUTH_USER_PASSWORD", "pw-12345"}, "create", "weak@example.com", "--force-weak"); err != nil {
				t.Errorf("create --force-weak: %v", err)
			}
			if _, err := users("", pw, "create", "odd@example.com", "--role", "Bad Role"); err == nil || !strings.Contains(err.Error(), "role") {
				t.Errorf("create with an invalid role: %v", err)
			}
			// Prompted: stdin is not a terminal here, so the answers are lines.
			if out, err := users("another passphrase 42\nanother passphrase 42\n", nil, "create", "prompted@example.com"); err != nil {
				t.Errorf("create, prompted: %v\n%s", err, out)
			}

			out, err = users("", nil, "list", "--json")
			if err != nil {
				t.Fatal(err)
			}
			var list []userJSON
			if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 3 {
				t.Fatalf("list --json: %v\n%s", err, out)
			}
			if list[0].Email != "clerk@example.com" || !slices.Equal(list[0].Roles, []string{"catalog:write", "support"}) ||
				!list[0].IsStaff || !list[0].IsActive || !list[0].EmailVerified {
				t.Errorf("listed %+v", list[0])
			}
			if out, err := users("", nil, "list"); err != nil || !strings.Contains(out, "catalog:write,support") || !strings.Contains(out, "weak@example.com") {
				t.Errorf("list: %v\n%s", err, out)
			}

			steps := []struct {
				args []string
				want string
			}{
				{[]string{"grant-role", "clerk@example.com", "orders:refund"}, "every session revoked"},
				{[]string{"grant-role", "clerk@example.com", "orders:refund"}, "already has"},
				{[]string{"revoke-role", "clerk@example.com", "support"}, "revoked"},
				{[]string{"revoke-role", "clerk@example.com", "support"}, "does not have"},
				{[]string{"deactivate", "CLERK@example.com"}, "Deactivated"},
				{[]string{"activate", "clerk@example.com"}, "Activated"},
				{[]string{"revoke-sessions", "clerk@example.com"}, "0 session(s)"},
			}
			for _, s := range steps {
				if out, err := users("", nil, s.args...); err != nil || !strings.Contains(out, s.want) {
					t.Errorf("%q: %v, output %q; want %q", s.args, err, out, s.want)
				}
			}
			if out, err := users("", []string{"AUTH_USER_PASSWORD", "a brand new passphrase"}, "set-password", "clerk@example.com"); err != nil || !strings.Contains(out, "Password set") {
				t.Errorf("set-password: %v\n%s", err, out)
			}
			if _, err := users("", []string{"AUTH_USER_PASSWORD", "short"}, "set-password", "clerk@example.com"); err == nil {
				t.Error("set-password accepted a weak password")
			}
			out, err = users("", nil, "show", "clerk@example.com", "--json")
			var shown userJSON
			if err != nil || json.Unmarshal([]byte(out), &shown) != nil || !slices.Equal(shown.Roles, []string{"catalog:write", "orders:refund"}) ||
				shown.LiveSessions == nil || !shown.IsActive {
				t.Errorf("show --json: %v\n%s", err, out)
			}
			if out, err := users("", nil, "show", "clerk@example.com"); err != nil || !strings.Contains(out, "live sessions") {
				t.Errorf("show: %v\n%s", err, out)
			}

			for _, args := range [][]string{
				{"show", "ghost@example.com"}, {"deactivate", "ghost@example.com"}, {"grant-role", "ghost@example.com", "x"},
				{"frobnicate"}, {"show"}, {"grant-role", "clerk@example.com"}, {"list", "extra"}, {},
			} {
				if _, err := users("", nil, args...); err == nil || errors.Is(err, errHelpShown) {
					t.Errorf("users %q: err %v, want a failure", args, err)
				}
			}
			for _, args := range [][]string{{"--help"}, {"create", "-h"}} {
				if _, err := users("", nil, args...); !errors.Is(err, errHelpShown) {
					t.Errorf("users %q: err %v, want help shown", args, err)
				}
			}
		})
	}
}

// serve starts the event dispatcher: a sign-up's verification mail reaches
// the webhook, signed, and the dispatcher stops with the server.
func TestServeDeliversEvents(t *testing.T) {
	const secret = "a-webhook-secret-of-at-least-32-bytes"
	got := make(chan []byte, 4)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if webhook.Verify([]byte(secret), r.Header, body, time.Now(), time.Minute) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		got <- body
	}))
	defer receiver.Close()
	addr := freeAddr(t)
	getenv := envMap("AUTH_DATABASE_URL", "sqlite:"+filepath.Join(t.TempDir(), "a.db"), "AUTH_SECRET_KEY", testSecret,
		"AUTH_LISTEN_ADDR", addr, "AUTH_SIGNUP", "open",
		"AUTH_EVENTS_WEBHOOK_URL", receiver.URL, "AUTH_EVENTS_WEBHOOK_SECRET", secret)
	stop, logs := startServe(t, getenv, addr)
	resp, err := http.Post("http://"+addr+"/auth/register/", "application/json",
		strings.NewReader(`{"email": "new@example.com", "password": "correct horse battery staple"}`))
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("register: %v %v", err, resp)
	}
	resp.Body.Close()
	select {
	case body := <-got:
		var ev struct {
			Type string `json:"type"`
			Data struct {
				Token string `json:"token"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &ev); err != nil || ev.Type != "email_verification" || ev.Data.Token == "" {
			t.Fatalf("delivered %s (%v)", body, err)
		}
		if strings.Contains(logs.String(), ev.Data.Token) {
			t.Error("the one-time token reached the log")
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no event delivered within 10s\n%s", logs)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve did not stop cleanly: %v", err)
	}
}

// Without a webhook, events are logged: with their tokens only in the
// embedded development default, never with a configured database.
func TestEventsLoggedWithoutAWebhook(t *testing.T) {
	payload, _ := json.Marshal(auth.Event{ID: "evt_1", Type: auth.NotifyPasswordReset, Data: auth.EventData{Email: "a@example.com", Token: "THE-TOKEN"}})
	for _, embedded := range []bool{true, false} {
		var logs bytes.Buffer
		sender := eventSender(config.Config{Embedded: embedded}, slog.New(slog.NewJSONHandler(&logs, nil)))
		if err := sender.Send(context.Background(), auth.OutboxEvent{ID: "evt_1", Payload: payload}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(logs.String(), "THE-TOKEN") != embedded || !strings.Contains(logs.String(), "evt_1") {
			t.Errorf("embedded %t: log %s", embedded, logs.String())
		}
	}
}
