package load

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Dur formats a latency or a CPU time with three significant figures at
// most, in µs or ms.
func Dur(d time.Duration) string {
	us := float64(d) / float64(time.Microsecond)
	switch {
	case d <= 0:
		return "0"
	case us < 10:
		return fmt.Sprintf("%.1f µs", us)
	case us < 1000:
		return fmt.Sprintf("%.0f µs", us)
	case us < 10_000:
		return fmt.Sprintf("%.2f ms", us/1000)
	case us < 100_000:
		return fmt.Sprintf("%.1f ms", us/1000)
	default:
		return fmt.Sprintf("%.0f ms", us/1000)
	}
}

// Failures lists the non-2xx answers, connection errors and stopped workers
// of r, most frequent first, or "none".
func (r Result) Failures() string {
	var parts []string
	add := func(m map[string]int, prefix string) {
		keys := slices.SortedFunc(maps.Keys(m), func(a, b string) int { return m[b] - m[a] })
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s%s ×%d", prefix, k, m[k]))
		}
	}
	add(r.Errors, "")
	add(r.Stopped, "worker stopped: ")
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// Summary is one line describing r, with the CPU per request of each
// measured process set.
func (r Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%.0f req/s (%d ok of %d in %v, %d conns), p50 %s, p99 %s, max %s",
		r.Rate(), r.OK, r.Requests, r.Window, r.Conns, Dur(r.P50), Dur(r.P99), Dur(r.Max))
	for _, name := range slices.Sorted(maps.Keys(r.CPU)) {
		fmt.Fprintf(&b, ", %s CPU %s/req", name, Dur(r.CPUPerRequest(name)))
	}
	fmt.Fprintf(&b, "; failures: %s", r.Failures())
	if r.Redials > 0 {
		fmt.Fprintf(&b, "; %d reconnections", r.Redials)
	}
	return b.String()
}
