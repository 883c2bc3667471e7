//go:build e2e

package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ecommerce/auth-service/gen/oapiclient"
	"github.com/ecommerce/auth-service/internal/pgtest"
	"github.com/ecommerce/auth-service/internal/token"
)

// The roll's timings, short so that the test takes a minute: verifiers may
// cache the key set for jwksMaxAge, tokens live accessTTL and refreshTTL,
// with leeway of clock skew.
const (
	jwksMaxAge = 2 * time.Second
	accessTTL  = 4 * time.Second
	refreshTTL = 8 * time.Second
	leeway     = time.Second
	// nginxFailTimeout is the gateway's fail_timeout: a replica that refused
	// a connection is not tried again before it passes, so the test lets it
	// pass before restarting the other replica.
	nginxFailTimeout = 5 * time.Second
)

// cachingVerifier verifies access tokens as a downstream service with
// PyJWT's PyJWKClient does: it keeps the key set it fetched and fetches it
// again only when its copy is older than its lifespan (the Cache-Control
// max-age the service sent) or when a token names a kid it does not hold;
// a kid still unknown after that refetch is a failure.
type cachingVerifier struct {
	url    string
	client *http.Client

	mu        sync.Mutex
	keys      map[string]any
	fetchedAt time.Time
	lifespan  time.Duration
	fetches   int
}

var maxAgeRE = regexp.MustCompile(`max-age=([0-9]+)`)

func (v *cachingVerifier) fetch() error {
	resp, err := v.client.Get(v.url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("JWKS: %s", resp.Status)
	}
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
			X   string `json:"x"`
			Y   string `json:"y"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return err
	}
	keys := map[string]any{}
	for _, k := range set.Keys {
		pub, err := ecPublicKey(k.X, k.Y)
		if err != nil {
			return err
		}
		keys[k.Kid] = pub
	}
	v.keys, v.fetchedAt, v.fetches = keys, time.Now(), v.fetches+1
	if m := maxAgeRE.FindStringSubmatch(resp.Header.Get("Cache-Control")); m != nil {
		n, _ := strconv.Atoi(m[1])
		v.lifespan = time.Duration(n) * time.Second
	}
	return nil
}

// key returns the key of kid, fetching the set as PyJWKClient would.
func (v *cachingVerifier) key(kid string) (any, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.keys == nil || time.Since(v.fetchedAt) > v.lifespan {
		if err := v.fetch(); err != nil {
			return nil, err
		}
	}
	if k, ok := v.keys[kid]; ok {
		return k, nil
	}
	if err := v.fetch(); err != nil { // an unknown kid: refetch once
		return nil, err
	}
	if k, ok := v.keys[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("kid %s is not in the key set even after a refetch", kid)
}

func (v *cachingVerifier) verify(tok string) (kid string, err error) {
	_, err = jwt.Parse(tok, func(t *jwt.Token) (any, error) {
		kid, _ = t.Header["kid"].(string)
		return v.key(kid)
	}, jwt.WithValidMethods([]string{"ES256"}), jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(leeway))
	return kid, err
}

// ecPublicKey is the P-256 public key of a JWK's x and y.
func ecPublicKey(x, y string) (*ecdsa.PublicKey, error) {
	xb, err := base64.RawURLEncoding.DecodeString(x)
	if err != nil {
		return nil, err
	}
	yb, err := base64.RawURLEncoding.DecodeString(y)
	if err != nil {
		return nil, err
	}
	return ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, xb...), yb...))
}

// stop ends a replica as a deployment does: SIGTERM, then a wait for its
// graceful shutdown.
func (r *replica) stop(tb testing.TB) {
	tb.Helper()
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(20 * time.Second):
		tb.Fatalf("%s did not stop within 20s of SIGTERM", r)
	}
}

// rollStats counts what the clients and the verifier saw.
type rollStats struct {
	issued, verified, failures, retried atomic.Int64
	byKid                               sync.Map // kid -> *atomic.Int64
	firstFailure                        atomic.Value
}

func (s *rollStats) fail(err error) {
	s.failures.Add(1)
	s.firstFailure.CompareAndSwap(nil, err.Error())
}

func (s *rollStats) sawKid(kid string) {
	n, _ := s.byKid.LoadOrStore(kid, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
}

func (s *rollStats) kidCount(kid string) int64 {
	n, ok := s.byKid.Load(kid)
	if !ok {
		return 0
	}
	return n.(*atomic.Int64).Load()
}

// TestSigningKeyRoll performs the documented roll of an ES256 signing key
// on two replicas behind nginx, restarting each replica at every step,
// while clients log in and refresh through the gateway and a verifier that
// caches the key set checks every access token issued: not one may fail.
func TestSigningKeyRoll(t *testing.T) {
	db := pgtest.NewDatabase(t)
	const clients = 4
	for i := range clients {
		createUser(t, db, fmt.Sprintf("roll%d@example.com", i), "roll-password-1")
	}
	dir := t.TempDir()
	oldPath, newPath := filepath.Join(dir, "old.pem"), filepath.Join(dir, "new.pem")
	oldKid, newKid := writeKey(t, oldPath), writeKey(t, newPath)

	ports := []int{freePort(t), freePort(t)}
	env := func(port int, extra ...string) []string {
		return append([]string{
			fmt.Sprintf("AUTH_LISTEN_ADDR=127.0.0.1:%d", port),
			"AUTH_JWT_ALGORITHM=ES256",
			"AUTH_JWKS_MAX_AGE=" + jwksMaxAge.String(),
			"AUTH_ACCESS_TOKEN_TTL=" + accessTTL.String(),
			"AUTH_REFRESH_TOKEN_TTL=" + refreshTTL.String(),
			"AUTH_JWT_LEEWAY=" + leeway.String(),
		}, extra...)
	}
	steps := [][]string{
		{"AUTH_JWT_PRIVATE_KEYS=" + oldPath},                                                      // before
		{"AUTH_JWT_PRIVATE_KEYS=" + oldPath + "," + newPath},                                      // 1: new key published, old signs
		{"AUTH_JWT_PRIVATE_KEYS=" + oldPath + "," + newPath, "AUTH_JWT_SIGNING_KEY_ID=" + newKid}, // 3: new key signs
		{"AUTH_JWT_PRIVATE_KEYS=" + newPath, "AUTH_JWT_SIGNING_KEY_ID=" + newKid},                 // 4: old key removed
	}
	replicas := []*replica{startReplica(t, db, env(ports[0], steps[0]...)), startReplica(t, db, env(ports[1], steps[0]...))}
	gw := startGateway(t, replicas...)

	hc := newHTTPClient(t)
	api := newAPIClient(t, gw.url, hc)
	verifier := &cachingVerifier{url: gw.url + "/auth/.well-known/jwks.json", client: hc}
	var stats rollStats
	ctx, stopClients := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	check := func(access string) {
		stats.issued.Add(1)
		kid, err := verifier.verify(access)
		if err != nil {
			stats.fail(fmt.Errorf("verifier: token of kid %s: %w", kid, err))
			return
		}
		stats.verified.Add(1)
		stats.sawKid(kid)
	}
	for i := range clients {
		wg.Go(func() {
			email := fmt.Sprintf("roll%d@example.com", i)
			pair, err := withRetries(&stats, func() (*oapiclient.TokenPair, int, error) {
				r, err := api.ObtainTokenWithResponse(ctx, nil, oapiclient.LoginRequest{Email: email, Password: "roll-password-1"})
				if err != nil {
					return nil, 0, err
				}
				return pairOf(r.JSON200), r.StatusCode(), nil
			})
			if err != nil {
				stats.fail(fmt.Errorf("login %s: %w", email, err))
				return
			}
			check(pair.Access)
			for ctx.Err() == nil {
				time.Sleep(250 * time.Millisecond)
				next, err := withRetries(&stats, func() (*oapiclient.TokenPair, int, error) {
					r, err := api.RefreshTokenWithResponse(ctx, nil, oapiclient.RefreshRequest{Refresh: pair.Refresh})
					if err != nil {
						return nil, 0, err
					}
					return pairOf(r.JSON200), r.StatusCode(), nil
				})
				if errors.Is(err, context.Canceled) || ctx.Err() != nil {
					return
				}
				if err != nil {
					stats.fail(fmt.Errorf("refresh %s: %w", email, err))
					return
				}
				pair = next
				check(pair.Access)
			}
		})
	}

	// restartAll moves both replicas to a configuration, one at a time, as
	// a rolling deployment does.
	restartAll := func(step int) {
		t.Helper()
		for i, r := range replicas {
			r.stop(t)
			replicas[i] = startReplica(t, db, env(ports[i], steps[step]...))
			time.Sleep(nginxFailTimeout + time.Second)
		}
		t.Logf("step %d: both replicas restarted with %q; so far %d tokens issued, %d verified, %d failures, %d requests retried",
			step, steps[step], stats.issued.Load(), stats.verified.Load(), stats.failures.Load(), stats.retried.Load())
	}

	time.Sleep(2 * time.Second)
	restartAll(1)                   // 1. add the new key: published, not signing
	time.Sleep(jwksMaxAge + leeway) // 2. wait at least the key set's max-age
	restartAll(2)                   // 3. switch the signer
	time.Sleep(refreshTTL + leeway) // 4. after the refresh lifetime, no live token of the old key
	restartAll(3)                   //    remove it
	time.Sleep(2 * time.Second)
	stopClients()
	wg.Wait()

	t.Logf("roll done: %d access tokens issued, %d verified (old kid %d, new kid %d), %d key set fetches, %d requests retried after a gateway error",
		stats.issued.Load(), stats.verified.Load(), stats.kidCount(oldKid), stats.kidCount(newKid), verifier.fetches, stats.retried.Load())
	if n := stats.failures.Load(); n != 0 {
		t.Fatalf("%d failures during the roll; the first: %v", n, stats.firstFailure.Load())
	}
	if stats.kidCount(oldKid) == 0 || stats.kidCount(newKid) == 0 {
		t.Fatalf("the roll did not happen: tokens of the old key %d, of the new key %d", stats.kidCount(oldKid), stats.kidCount(newKid))
	}
	jwks, err := api.GetJWKSWithResponse(context.Background())
	if err != nil || jwks.JSON200 == nil || len(jwks.JSON200.Keys) != 1 || jwks.JSON200.Keys[0].Kid != newKid {
		t.Errorf("after the roll the key set is %v %v, want only the new key", err, jwks)
	}
}

// withRetries makes a call, and makes it again (a few times) when the
// gateway answered 502/503/504 or the connection failed: a replica that is
// stopping may drop a request nginx cannot pass on. Those retries are
// counted, not failures: the roll is about tokens. A retried refresh whose
// first attempt did reach a replica lands in the grace interval, which is
// what it is for.
func withRetries(stats *rollStats, call func() (*oapiclient.TokenPair, int, error)) (oapiclient.TokenPair, error) {
	for attempt := 1; ; attempt++ {
		pair, status, err := call()
		switch {
		case err == nil && status == http.StatusOK && pair != nil:
			return *pair, nil
		case errors.Is(err, context.Canceled):
			return oapiclient.TokenPair{}, err
		case attempt < 5 && (err != nil || status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout):
			stats.retried.Add(1)
			time.Sleep(200 * time.Millisecond)
		case err != nil:
			return oapiclient.TokenPair{}, err
		default:
			return oapiclient.TokenPair{}, fmt.Errorf("HTTP %d", status)
		}
	}
}

// writeKey writes a new ES256 key to path (mode 0600) and returns its kid.
func writeKey(t *testing.T, path string) string {
	t.Helper()
	pem, err := token.GenerateKey(token.ES256)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := token.NewAsymmetric(token.ES256, [][]byte{pem}, "")
	if err != nil {
		t.Fatal(err)
	}
	return keys.JWKS()[0].Kid
}
