package metrics

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/hashlimit"
)

// Every metric the alert rules use is one the service exports, from the
// start (an alert on a series that appears only later stays silent).
func TestAlertRulesUseExportedMetrics(t *testing.T) {
	m := New()
	m.RegisterHashLimiter(hashlimit.New(1024, 1, time.Second, 8))
	m.ObserveRequest("getHealth", 200, time.Millisecond)
	m.domain.hashWait.Observe(0)
	families, err := m.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{}
	for _, f := range families {
		exported[f.GetName()] = true
	}
	rules, err := os.ReadFile("../../deploy/prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	used := regexp.MustCompile(`auth_[a-z_]+`).FindAllString(string(rules), -1)
	if len(used) == 0 {
		t.Fatal("the alert rules use no auth_ metric")
	}
	for _, name := range used {
		for _, suffix := range []string{"_bucket", "_count", "_sum"} {
			name = strings.TrimSuffix(name, suffix)
		}
		if !exported[name] {
			t.Errorf("alerts.yml uses %s, which the service does not export", name)
		}
	}
	for _, result := range []string{auth.LoginOverloaded, auth.LoginError, auth.RefreshReuseRevoked} {
		if !zeroSeries(t, m, result) {
			t.Errorf("no series with result %q before it happens", result)
		}
	}
}

// zeroSeries reports whether a counter with label result is exported at 0.
func zeroSeries(t *testing.T, m *Metrics, result string) bool {
	t.Helper()
	families, err := m.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, metric := range f.GetMetric() {
			for _, l := range metric.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result && metric.GetCounter().GetValue() == 0 {
					return true
				}
			}
		}
	}
	return false
}
