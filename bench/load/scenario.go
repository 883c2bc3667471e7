package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Pair is the answer of a login or a refresh.
type Pair struct {
	Access  string `json:"access"`
	Refresh string `json:"refresh"`
}

// Login posts email and password to baseURL's /auth/token/ and returns the
// pair. It is for preparing workers, outside any timed window. A non-200
// answer is an error carrying the status and the body.
func Login(ctx context.Context, client *http.Client, baseURL, email, password string) (Pair, error) {
	body, err := json.Marshal(map[string]string{"email": email, "password": password})
	if err != nil {
		return Pair{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/auth/token/", bytes.NewReader(body))
	if err != nil {
		return Pair{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return Pair{}, fmt.Errorf("log in: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return Pair{}, fmt.Errorf("log in: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return Pair{}, fmt.Errorf("log in: status %d: %s", resp.StatusCode, strings.TrimSpace(string(data)))
	}
	var p Pair
	if err := json.Unmarshal(data, &p); err != nil || p.Access == "" || p.Refresh == "" {
		return Pair{}, fmt.Errorf("log in: unexpected answer %q", data)
	}
	return p, nil
}

// fixed is a worker that sends the same request again and again.
type fixed []byte

func (f fixed) Request() []byte                           { return f }
func (fixed) Response(context.Context, int, []byte) error { return nil }

// Health is GET /auth/health/.
func Health() Scenario {
	return Scenario{Name: "health", NewWorker: func(_ context.Context, host string) (Worker, error) {
		return fixed(NewRequest("GET", "/auth/health/", host, nil)), nil
	}}
}

// Me is GET /auth/me/ with the bearer token access.
func Me(access string) Scenario {
	return Scenario{Name: "me", NewWorker: func(_ context.Context, host string) (Worker, error) {
		return fixed(NewRequest("GET", "/auth/me/", host, nil, "Authorization", "Bearer "+access)), nil
	}}
}

// LoginWith is POST /auth/token/ with a right password: every request hashes
// it once.
func LoginWith(email, password string) Scenario {
	return Scenario{Name: "login", NewWorker: func(_ context.Context, host string) (Worker, error) {
		body, err := json.Marshal(map[string]string{"email": email, "password": password})
		if err != nil {
			return nil, err
		}
		return fixed(NewRequest("POST", "/auth/token/", host, body)), nil
	}}
}

// Refresh is POST /auth/token/refresh/ the way clients use it: each
// connection holds a session of its own and always presents the newest
// refresh token of its rotation chain. start returns a connection's first
// refresh token (a new login, so a new session); it is called once per
// connection before the clock starts, and again after a rejection, so that a
// broken chain is counted (by status) and then restarted rather than
// measuring the rejection path from then on.
func Refresh(start func(ctx context.Context) (string, error)) Scenario {
	return Scenario{Name: "refresh", NewWorker: func(ctx context.Context, host string) (Worker, error) {
		tok, err := start(ctx)
		if err != nil {
			return nil, err
		}
		w := &chain{host: host, start: start}
		w.follow(tok)
		return w, nil
	}}
}

// chain is one connection of the refresh scenario.
type chain struct {
	host  string
	start func(ctx context.Context) (string, error)
	req   []byte
}

func (c *chain) follow(refresh string) {
	body, _ := json.Marshal(map[string]string{"refresh": refresh}) // strings always encode
	c.req = NewRequest("POST", "/auth/token/refresh/", c.host, body)
}

func (c *chain) Request() []byte { return c.req }

func (c *chain) Response(ctx context.Context, status int, body []byte) error {
	if status == http.StatusOK {
		var p Pair
		if err := json.Unmarshal(body, &p); err != nil || p.Refresh == "" {
			return fmt.Errorf("refresh answered 200 without a refresh token: %.80q", body)
		}
		c.follow(p.Refresh)
		return nil
	}
	tok, err := c.start(ctx)
	if err != nil {
		return errors.Join(fmt.Errorf("restart the chain after a %d", status), err)
	}
	c.follow(tok)
	return nil
}
