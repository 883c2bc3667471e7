package deploy

import (
	"os"
	"os/exec"
	"testing"

	yaml "go.yaml.in/yaml/v4"
)

// The scrape configuration and alert rules are checked with promtool, which
// CI installs (Debian's prometheus package); without it, they are at least
// parsed, and under CI=true its absence fails.
func TestPrometheusFiles(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err == nil {
		for _, args := range [][]string{{"check", "config", "prometheus/prometheus.yml"}, {"check", "rules", "prometheus/alerts.yml"}} {
			if out, err := exec.Command(promtool, args...).CombinedOutput(); err != nil {
				t.Errorf("promtool %v: %v\n%s", args, err, out)
			}
		}
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("promtool is missing and CI=true: install Debian's prometheus package")
	}
	t.Log("promtool not found: parsing only")
	var rules struct {
		Groups []struct {
			Name  string
			Rules []struct{ Alert, Expr string }
		}
	}
	data, err := os.ReadFile("prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &rules); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	if len(rules.Groups) == 0 {
		t.Fatal("alerts.yml has no rule groups")
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || r.Expr == "" {
				t.Errorf("group %s: a rule without alert or expr: %+v", g.Name, r)
			}
		}
	}
	var scrape struct {
		ScrapeConfigs []struct {
			JobName string `yaml:"job_name"`
		} `yaml:"scrape_configs"`
	}
	if data, err = os.ReadFile("prometheus/prometheus.yml"); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &scrape); err != nil || len(scrape.ScrapeConfigs) == 0 {
		t.Fatalf("prometheus.yml: %v, %d scrape configs", err, len(scrape.ScrapeConfigs))
	}
}
