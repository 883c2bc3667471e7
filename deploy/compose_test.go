// Package deploy holds the deployment files' tests: docker-compose.yml is
// loaded with compose-go, the loader Docker Compose itself uses, so that what
// is checked is what `docker compose up` would run, interpolation and
// normalisation included, and not a guess at the YAML's structure.
package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

const (
	composeFile = "../docker-compose.yml"
	// exampleEnv is the example env file of the README (`cp .env.example .env`).
	exampleEnv = "../.env.example"
)

// loadCompose loads docker-compose.yml as `docker compose` would, with the
// given env files and nothing from the test's own environment, so that a
// secret exported in the developer's shell cannot make the test pass.
func loadCompose(tb testing.TB, envFiles ...string) (*types.Project, error) {
	tb.Helper()
	opts, err := cli.NewProjectOptions([]string{composeFile},
		cli.WithName("auth-service"),
		cli.WithWorkingDirectory(".."),
		cli.WithEnvFiles(envFiles...),
		cli.WithDotEnv,
	)
	if err != nil {
		tb.Fatalf("compose options: %v", err)
	}
	return opts.LoadProject(tb.Context())
}

func mustLoad(tb testing.TB, envFiles ...string) *types.Project {
	tb.Helper()
	p, err := loadCompose(tb, envFiles...)
	if err != nil {
		tb.Fatalf("load %s with %v: %v", composeFile, envFiles, err)
	}
	return p
}

func service(tb testing.TB, p *types.Project, name string) types.ServiceConfig {
	tb.Helper()
	s, err := p.GetService(name)
	if err != nil {
		tb.Fatalf("service %s: %v", name, err)
	}
	return s
}

// envValue reads one entry of a service's environment: "" and false when it
// is absent or has no value.
func envValue(s types.ServiceConfig, name string) (string, bool) {
	v, ok := s.Environment[name]
	if !ok || v == nil {
		return "", false
	}
	return *v, true
}

// readEnvFile returns the KEY=VALUE lines of an env file.
func readEnvFile(tb testing.TB, path string) map[string]string {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	env := map[string]string{}
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	return env
}

func TestComposeServices(t *testing.T) {
	p := mustLoad(t, exampleEnv)
	names := p.ServiceNames()
	slices.Sort(names)
	if want := []string{"auth-db", "auth-service", "gateway"}; !slices.Equal(names, want) {
		t.Fatalf("services %v, want %v", names, want)
	}

	svc := service(t, p, "auth-service")
	if svc.Build == nil || filepath.Clean(svc.Build.Context) != filepath.Clean(p.WorkingDir) {
		t.Errorf("auth-service build %+v, want the repository root %s", svc.Build, p.WorkingDir)
	}
	if svc.ContainerName != "" {
		t.Errorf("auth-service has container_name %q: --scale would be impossible", svc.ContainerName)
	}
	if !slices.Contains(svc.Expose, "8000") {
		t.Errorf("auth-service exposes %v, want 8000", svc.Expose)
	}
	if url, _ := envValue(svc, "AUTH_DATABASE_URL"); !strings.HasPrefix(url, "postgres://") || !strings.Contains(url, "@auth-db:5432/") {
		t.Errorf("AUTH_DATABASE_URL %q does not point at auth-db", url)
	}
	if v, _ := envValue(svc, "AUTH_MIGRATE_ON_START"); v != "true" {
		t.Errorf("AUTH_MIGRATE_ON_START %q, want true", v)
	}
	for _, name := range []string{"AUTH_LISTEN_ADDR", "AUTH_ACCESS_TOKEN_TTL", "AUTH_REFRESH_TOKEN_TTL",
		"AUTH_REFRESH_REUSE_INTERVAL", "AUTH_LOG_LEVEL", "AUTH_JWT_ALGORITHM", "AUTH_JWT_PRIVATE_KEYS",
		"AUTH_EVENTS_WEBHOOK_URL", "AUTH_EVENTS_WEBHOOK_SECRET", "AUTH_EMAIL_TOKEN_TTL", "AUTH_PASSWORD_MIN_LENGTH"} {
		if _, ok := svc.Environment[name]; !ok {
			t.Errorf("%s is not passed to auth-service", name)
		}
	}
	for _, name := range configVariables(t) {
		if _, ok := svc.Environment[name]; !ok && name != "AUTH_SUPERUSER_PASSWORD" && name != "AUTH_USER_PASSWORD" {
			t.Errorf("%s, which the service reads, is not passed to auth-service: setting it in the shell would do nothing", name)
		}
	}
	if v, _ := envValue(svc, "AUTH_SIGNUP"); v != "open" {
		t.Errorf("AUTH_SIGNUP %q, want open: the shop's customers sign themselves up", v)
	}
	if v, _ := envValue(svc, "AUTH_METRICS_ADDR"); v != ":9100" || !slices.Contains(svc.Expose, "9100") {
		t.Errorf("AUTH_METRICS_ADDR %q, expose %v: want metrics on :9100 for deploy/prometheus", v, svc.Expose)
	}
	if svc.Restart != types.RestartPolicyUnlessStopped {
		t.Errorf("auth-service restart %q, want unless-stopped", svc.Restart)
	}

	db := service(t, p, "auth-db")
	if !strings.HasPrefix(db.Image, "postgres:16") {
		t.Errorf("auth-db image %q, want postgres:16", db.Image)
	}
	var dataVolume bool
	for _, v := range db.Volumes {
		dataVolume = dataVolume || (v.Type == types.VolumeTypeVolume && v.Source == "auth-db-data")
	}
	if !dataVolume {
		t.Errorf("auth-db does not keep its data in the volume auth-db-data: %+v", db.Volumes)
	}
	if _, ok := p.Volumes["auth-db-data"]; !ok {
		t.Error("volume auth-db-data is not declared")
	}

	gw := service(t, p, "gateway")
	if !strings.HasPrefix(gw.Image, "nginx:1.27") {
		t.Errorf("gateway image %q, want nginx:1.27", gw.Image)
	}
	if v, _ := envValue(gw, "AUTH_UPSTREAM"); v != "auth-service:8000" {
		t.Errorf("gateway AUTH_UPSTREAM %q, want auth-service:8000", v)
	}
	var templates bool
	for _, v := range gw.Volumes {
		templates = templates || (v.Type == types.VolumeTypeBind && v.Target == "/etc/nginx/templates" &&
			v.Source == filepath.Join(p.WorkingDir, "deploy/nginx/templates") && v.ReadOnly)
	}
	if !templates {
		t.Errorf("gateway does not mount deploy/nginx/templates read-only: %+v", gw.Volumes)
	}
}

func TestComposeHealthchecks(t *testing.T) {
	p := mustLoad(t, exampleEnv)

	// Readiness: a replica whose database does not answer, or that is
	// draining, is not healthy, and the gateway waits for a ready one.
	svc := service(t, p, "auth-service")
	if svc.HealthCheck == nil || svc.HealthCheck.Disable ||
		!slices.Equal([]string(svc.HealthCheck.Test), []string{"CMD", "auth-service", "healthcheck", "--ready"}) {
		t.Errorf("auth-service healthcheck %+v, want [CMD auth-service healthcheck --ready]", svc.HealthCheck)
	}
	// The stop grace covers the drain (5s) and the wait for requests in
	// flight (15s), so that `docker compose stop` loses nothing.
	if svc.StopGracePeriod == nil || time.Duration(*svc.StopGracePeriod) < 20*time.Second {
		t.Errorf("auth-service stop_grace_period %v, want at least 20s", svc.StopGracePeriod)
	}

	db := service(t, p, "auth-db")
	if db.HealthCheck == nil || db.HealthCheck.Disable || len(db.HealthCheck.Test) < 2 ||
		db.HealthCheck.Test[0] != "CMD-SHELL" || !strings.HasPrefix(db.HealthCheck.Test[1], "pg_isready ") {
		t.Errorf("auth-db healthcheck %+v, want CMD-SHELL pg_isready", db.HealthCheck)
	}
}

func TestComposeStartOrder(t *testing.T) {
	p := mustLoad(t, exampleEnv)
	want := map[string]map[string]string{
		"auth-service": {"auth-db": types.ServiceConditionHealthy},
		"gateway":      {"auth-service": types.ServiceConditionHealthy},
		"auth-db":      {},
	}
	for name, deps := range want {
		got := map[string]string{}
		for dep, d := range service(t, p, name).DependsOn {
			got[dep] = d.Condition
		}
		if len(got) != len(deps) {
			t.Errorf("%s depends on %v, want %v", name, got, deps)
		}
		for dep, cond := range deps {
			if got[dep] != cond {
				t.Errorf("%s waits for %s with condition %q, want %q", name, dep, got[dep], cond)
			}
		}
	}
}

// The replicas believe X-Forwarded-For from the gateway's network only, and
// the database is not on it.
func TestComposeNetworks(t *testing.T) {
	p := mustLoad(t, exampleEnv)
	svc, db, gw := service(t, p, "auth-service"), service(t, p, "auth-db"), service(t, p, "gateway")
	netw, ok := p.Networks["gateway"]
	if !ok || len(netw.Ipam.Config) != 1 {
		t.Fatalf("network gateway %+v, want one fixed subnet", netw)
	}
	if v, _ := envValue(svc, "AUTH_TRUSTED_PROXIES"); v != netw.Ipam.Config[0].Subnet {
		t.Errorf("AUTH_TRUSTED_PROXIES %q, want the gateway network's subnet %q", v, netw.Ipam.Config[0].Subnet)
	}
	if _, on := svc.Networks["gateway"]; !on {
		t.Error("auth-service is not on the gateway network")
	}
	if _, on := db.Networks["gateway"]; on {
		t.Error("the database is on the gateway network")
	}
	if len(gw.Networks) != 1 {
		t.Errorf("gateway networks %v, want the gateway network only", gw.Networks)
	}
}

func TestComposeOnlyTheGatewayPublishesPorts(t *testing.T) {
	p := mustLoad(t, exampleEnv)
	for _, name := range p.ServiceNames() {
		ports := service(t, p, name).Ports
		switch {
		case name == "gateway" && len(ports) == 0:
			t.Error("the gateway publishes no port")
		case name != "gateway" && len(ports) != 0:
			t.Errorf("%s publishes %+v: only the gateway may", name, ports)
		}
	}
	gw := service(t, p, "gateway")
	if len(gw.Ports) != 1 || gw.Ports[0].Target != 80 || gw.Ports[0].Published != readEnvFile(t, exampleEnv)["GATEWAY_PORT"] {
		t.Errorf("gateway ports %+v, want GATEWAY_PORT -> 80", gw.Ports)
	}
}

// secretName matches the variables that hold secrets.
var secretName = regexp.MustCompile(`(?i)secret|passw|token|private|key`)

// interpolation matches ${NAME}, ${NAME:-default}, ${NAME?err} and the like,
// capturing the name, the operator and the rest.
var interpolation = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?+])?([^}]*)\}`)

func TestComposeSecretsHaveNoDefault(t *testing.T) {
	t.Run("loaded with the example env file", func(t *testing.T) {
		want := readEnvFile(t, exampleEnv)["AUTH_SECRET_KEY"]
		if want == "" {
			t.Fatalf("%s sets no AUTH_SECRET_KEY", exampleEnv)
		}
		got, _ := envValue(service(t, mustLoad(t, exampleEnv), "auth-service"), "AUTH_SECRET_KEY")
		if got != want {
			t.Errorf("AUTH_SECRET_KEY %q, want the env file's %q", got, want)
		}
	})

	t.Run("loaded without it", func(t *testing.T) {
		// An empty env file, so that neither a .env nor the shell supplies the secret.
		empty := filepath.Join(t.TempDir(), "empty.env")
		if err := os.WriteFile(empty, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		p, err := loadCompose(t, empty)
		if err != nil {
			t.Logf("refused without AUTH_SECRET_KEY, as it may: %v", err)
			return
		}
		if v, _ := envValue(service(t, p, "auth-service"), "AUTH_SECRET_KEY"); v != "" {
			t.Errorf("AUTH_SECRET_KEY defaults to %q when unset: a forgotten secret would sign with a published value", v)
		}
	})

	t.Run("the file as written", func(t *testing.T) {
		data, err := os.ReadFile(composeFile)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range secretDefaults(string(data)) {
			t.Errorf("%s gives a secret a value of its own: %s", composeFile, d)
		}
		if !regexp.MustCompile(`\$\{AUTH_SECRET_KEY[:?}-]`).Match(data) {
			t.Errorf("%s does not take AUTH_SECRET_KEY from the environment", composeFile)
		}
	})
}

// secretDefaults returns the interpolations in a compose file that give a
// secret-looking variable a value the operator did not choose. ${X}, ${X:-}
// and ${X-} leave an unset secret empty, and ${X:?msg} refuses to load: those
// pass.
func secretDefaults(compose string) []string {
	var found []string
	for _, m := range interpolation.FindAllStringSubmatch(compose, -1) {
		name, op, rest := m[1], m[2], m[3]
		if !secretName.MatchString(name) {
			continue
		}
		if op == "" && rest == "" || (op == "-" || op == ":-") && rest == "" || op == "?" || op == ":?" {
			continue
		}
		found = append(found, m[0])
	}
	return found
}

func TestSecretDefaultsCatchesEverySpelling(t *testing.T) {
	for s, bad := range map[string]bool{
		"${AUTH_SECRET_KEY}":                 false,
		"${AUTH_SECRET_KEY:-}":               false,
		"${AUTH_SECRET_KEY-}":                false,
		"${AUTH_SECRET_KEY:?set it}":         false,
		"${AUTH_SECRET_KEY?set it}":          false,
		"${GATEWAY_PORT:-8080}":              false,
		"${AUTH_SECRET_KEY:-insecure}":       true,
		"${AUTH_SECRET_KEY-insecure}":        true,
		"${AUTH_SECRET_KEY:+x}":              true,
		"${DB_PASSWORD:-auth}":               true,
		"x: ${AUTH_JWT_PRIVATE_KEYS:-a.pem}": true,
	} {
		if got := len(secretDefaults(s)) > 0; got != bad {
			t.Errorf("secretDefaults(%q) flags it: %v, want %v", s, got, bad)
		}
	}
}

// configVariables are the AUTH_ variables the service's code reads: every
// "AUTH_…" string literal of internal/config and cmd/auth-service, tests
// left out.
func configVariables(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, dir := range []string{"../internal/config", "../cmd/auth-service"} {
		matches, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, matches...)
	}
	literal := regexp.MustCompile(`"(AUTH_[A-Z0-9_]+)"`)
	var names []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range literal.FindAllStringSubmatch(string(src), -1) {
			if !slices.Contains(names, m[1]) {
				names = append(names, m[1])
			}
		}
	}
	if len(names) < 40 {
		t.Fatalf("found only %d AUTH_ variables in %v: has the configuration moved?", len(names), files)
	}
	return names
}
