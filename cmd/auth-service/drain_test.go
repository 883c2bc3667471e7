package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/pgtest"
	"github.com/ecommerce/auth-service/internal/storetest"
)

// keepAliveClient is one HTTP/1.1 connection used request after request,
// with no automatic retry (unlike http.Transport, which silently replays a
// GET whose reused connection was closed under it): every reset or EOF is
// seen. A response with Connection: close ends the connection, and the next
// request goes to next(), as through a load balancer that has taken the
// draining replica out.
type keepAliveClient struct {
	addr string
	next func() string
	nc   net.Conn
	br   *bufio.Reader
}

func (c *keepAliveClient) do(method, path, body string, header map[string]string) (status int, data []byte, closed bool, err error) {
	if c.nc == nil {
		if c.nc, err = net.DialTimeout("tcp", c.addr, 5*time.Second); err != nil {
			return 0, nil, false, err
		}
		c.br = bufio.NewReader(c.nc)
	}
	req, _ := http.NewRequest(method, "http://"+c.addr+path, strings.NewReader(body))
	if body == "" {
		req.Body = nil
	} else {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	_ = c.nc.SetDeadline(time.Now().Add(10 * time.Second))
	if err = req.Write(c.nc); err == nil {
		var resp *http.Response
		if resp, err = http.ReadResponse(c.br, req); err == nil {
			data, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			status, closed = resp.StatusCode, resp.Close
		}
	}
	if err != nil || closed {
		c.nc.Close()
		c.nc = nil
		if closed {
			c.addr = c.next()
		}
	}
	return status, data, closed, err
}

// startServeWith runs serve on addr with getenv until stop is called.
func startServeWith(t *testing.T, getenv func(string) string, addr string) (stop func() error) {
	t.Helper()
	stop, _ = startServe(t, getenv, addr)
	return stop
}

// SIGTERM under keep-alive load loses nothing: readiness fails at once, the
// server keeps answering for AUTH_SHUTDOWN_DRAIN with Connection: close, so
// that clients leave for the other replica between requests, then stops and
// exits cleanly. No client sees a reset, an EOF or a 5xx.
func TestSIGTERMUnderKeepAliveLoadLosesNothing(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			url := storetest.URL(t, kind)
			// A generous hash wait, so that a busy machine does not shed the
			// clients' logins (503 overloaded): not what this test is about.
			base := []string{"AUTH_DATABASE_URL", url, "AUTH_SECRET_KEY", testSecret, "AUTH_MIGRATE_ON_START", "true",
				"AUTH_SHUTDOWN_DRAIN", "1s", "AUTH_LOG_LEVEL", "warn", "AUTH_HASH_MAX_WAIT", "60s"}
			var out bytes.Buffer
			if err := run(context.Background(), []string{"createsuperuser", "--email", "drain@example.com", "--noinput"},
				envMap(append(base, "AUTH_SUPERUSER_PASSWORD", "correct horse battery staple")...), nil, &out, &out); err != nil {
				t.Fatalf("createsuperuser: %v\n%s", err, out.String())
			}
			addrA, addrB := freeAddr(t), freeAddr(t)
			stopA := startServeWith(t, envMap(append(base, "AUTH_LISTEN_ADDR", addrA)...), addrA)
			startServeWith(t, envMap(append(base, "AUTH_LISTEN_ADDR", addrB)...), addrB)

			const clients = 8
			var (
				mu       sync.Mutex
				counts   = map[string]int{}
				failures []string
			)
			record := func(what string, status int, err error) {
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					failures = append(failures, fmt.Sprintf("%s: %v", what, err))
				case status >= 500:
					failures = append(failures, fmt.Sprintf("%s: status %d", what, status))
				default:
					counts[fmt.Sprintf("%s %d", what, status)]++
				}
			}
			done := make(chan struct{})
			var wg sync.WaitGroup
			for range clients {
				c := &keepAliveClient{addr: addrA, next: func() string { return addrB }}
				wg.Go(func() {
					status, body, _, err := c.do(http.MethodPost, "/auth/token/", `{"email":"drain@example.com","password":"correct horse battery staple"}`, nil)
					record("login", status, err)
					var pair struct{ Access, Refresh string }
					if err != nil || json.Unmarshal(body, &pair) != nil || pair.Refresh == "" {
						return
					}
					for {
						select {
						case <-done:
							return
						default:
						}
						status, _, _, err := c.do(http.MethodGet, "/auth/me/", "", map[string]string{"Authorization": "Bearer " + pair.Access})
						record("me", status, err)
						status, body, _, err = c.do(http.MethodPost, "/auth/token/refresh/", `{"refresh":"`+pair.Refresh+`"}`, nil)
						record("refresh", status, err)
						if status == http.StatusOK {
							_ = json.Unmarshal(body, &pair)
						}
					}
				})
			}

			time.Sleep(300 * time.Millisecond)
			stopped := make(chan error, 1)
			go func() { stopped <- stopA() }() // SIGTERM
			// Readiness fails at once.
			deadline := time.Now().Add(time.Second)
			for {
				resp, err := http.Get("http://" + addrA + "/auth/ready/")
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusServiceUnavailable {
						break
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("readiness did not fail within 1s of SIGTERM (last: %v %v)", resp, err)
				}
				time.Sleep(5 * time.Millisecond)
			}
			if err := <-stopped; err != nil {
				t.Errorf("serve did not exit cleanly: %v", err)
			}
			time.Sleep(200 * time.Millisecond) // load goes on, on B
			close(done)
			wg.Wait()

			t.Logf("answers: %v", counts)
			if len(failures) > 0 {
				t.Errorf("%d failed requests, e.g. %q", len(failures), failures[:min(5, len(failures))])
			}
			if counts["me 200"] == 0 || counts["refresh 200"] == 0 {
				t.Error("the clients made no successful requests")
			}
			if c, err := net.DialTimeout("tcp", addrA, time.Second); err == nil {
				c.Close()
				t.Error("replica A still accepts connections after exiting")
			}
		})
	}
}

// healthcheck --ready follows readiness: it fails while the database is
// away, when plain healthcheck (liveness) still passes.
func TestHealthcheckReady(t *testing.T) {
	url := storetest.URL(t, "postgres")
	storetest.OpenURL(t, url)
	proxy, viaProxy := pgtest.NewProxy(t, url)
	addr := freeAddr(t)
	getenv := envMap("AUTH_DATABASE_URL", viaProxy, "AUTH_SECRET_KEY", testSecret, "AUTH_LISTEN_ADDR", addr)
	startServe(t, getenv, addr)
	check := func(args ...string) error {
		var out bytes.Buffer
		return run(context.Background(), append([]string{"healthcheck"}, args...), getenv, nil, &out, &out)
	}
	if err := check("--ready"); err != nil {
		t.Fatalf("healthcheck --ready with the database up: %v", err)
	}
	proxy.Cut()
	if err := check("--ready"); err == nil || !strings.Contains(err.Error(), "not ready") {
		t.Errorf("healthcheck --ready with the database away: %v, want a failure", err)
	}
	if err := check(); err != nil {
		t.Errorf("healthcheck (liveness) with the database away: %v, want success", err)
	}
	proxy.Restore()
}

// Hashing never takes the last CPU: on 2 CPUs one hash runs at a time.
func TestHashSlotsLeaveACPU(t *testing.T) {
	for cpus, want := range map[int]int{1: 1, 2: 1, 4: 3, 8: 7} {
		if got := hashSlots(cpus); got != want {
			t.Errorf("hashSlots(%d) = %d, want %d", cpus, got, want)
		}
	}
}
