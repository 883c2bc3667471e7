package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/bench/load"
)

func TestParseOptionsReadsTheEnvironmentAndRefusesBadValues(t *testing.T) {
	env := map[string]string{"BENCH_DURATION": "4s", "BENCH_CONNS": "8", "BENCH_SCENARIOS": "me, login"}
	o, err := parseOptions(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if o.duration != 4*time.Second || o.conns != 8 || o.rounds != 2 || strings.Join(o.scenarios, ",") != "me,login" {
		t.Fatalf("%+v", o)
	}
	env = map[string]string{"BENCH_DURATION": "soon", "BENCH_CONNS": "0", "BENCH_SCENARIOS": "health,verify"}
	_, err = parseOptions(nil, func(k string) string { return env[k] })
	for _, want := range []string{"BENCH_DURATION", "BENCH_CONNS", `"verify"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

func TestRenderTableShowsRatiosTargetsAndFailures(t *testing.T) {
	ok := func(n int, cpu time.Duration) load.Result {
		r := load.Merge(load.Result{Window: time.Second, OK: n, CPU: map[string]time.Duration{cpuServer: cpu}})
		r.Requests = n
		return r
	}
	withErrors := ok(900, time.Second)
	withErrors.Errors = map[string]int{"429": 3}
	rows := []row{
		{name: "health", svc: outcome{res: ok(900, 90*time.Millisecond)}, base: outcome{res: ok(1000, 50*time.Millisecond)}},
		{name: "me", svc: outcome{err: errors.New("log in: status 429")}, base: outcome{err: errors.New("log in: status 429")}},
		{name: "login", svc: outcome{res: withErrors}, hashBound: 1000, hashTime: 2 * time.Millisecond, cores: 2, capacity: 950},
	}
	table := renderTable("header", rows)
	for _, want := range []string{
		"| health | 900/s | 1000/s | 0.90 | ≥ 0.8× baseline: met |",
		"100 µs / 50 µs (2.0×)",
		"| /me | failed: log in: status 429 |",
		"hash-bound 1000/s (2 cores / 2.00 ms a hash); 2 hashers measured 950/s | 0.90 (0.95 of measured) | ≥ 0.9× hash-bound: met",
		"429 ×3",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}
