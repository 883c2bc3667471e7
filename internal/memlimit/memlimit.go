// Package memlimit sets Go's soft memory limit (GOMEMLIMIT) for the process.
// Password hashes allocate their whole memory cost at once and drop it when
// they finish: without a limit the garbage collector lets that garbage pile
// up to twice the live heap before it collects, which under a burst of
// logins is enough to get a container killed. With a limit it collects
// sooner as the limit approaches.
package memlimit

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
)

// cgroupShare is the part of a container's memory limit given to Go: the
// rest is for what Go does not count (thread stacks, the binary, page
// tables) and for headroom.
const cgroupShare = 0.9

// Source says where the limit came from.
type Source string

const (
	FromGOMEMLIMIT Source = "GOMEMLIMIT"            // the runtime read it itself
	FromSetting    Source = "AUTH_MEMORY_LIMIT_MIB" // the service's setting
	FromCgroup     Source = "cgroup"                // 90% of the container's limit
	FromDefault    Source = "default"               // the caller's fallback
)

// Apply sets the memory limit, in this order of precedence: GOMEMLIMIT when
// the environment sets it (the runtime has applied it already), settingMiB
// when positive, 90% of the cgroup's memory limit when there is one, else
// fallbackMiB. It returns the limit in bytes and where it came from.
func Apply(getenv func(string) string, settingMiB, fallbackMiB int64) (int64, Source) {
	var limit int64
	var source Source
	switch {
	case getenv("GOMEMLIMIT") != "":
		return debug.SetMemoryLimit(-1), FromGOMEMLIMIT
	case settingMiB > 0:
		limit, source = settingMiB<<20, FromSetting
	default:
		// Only now is the cgroup's limit needed: read its files.
		limit, source = fallbackMiB<<20, FromDefault
		if cg, ok := cgroupLimit("/"); ok {
			limit, source = int64(float64(cg)*cgroupShare), FromCgroup
		}
	}
	debug.SetMemoryLimit(limit)
	return limit, source
}

// unlimited is what cgroup v1 reports for no limit (rounded to pages), or
// anything that large.
const unlimited = 1 << 60

// cgroupLimit returns the memory limit of the process's cgroup, read under
// root (the file system root; tests pass another), cgroup v2 first.
func cgroupLimit(root string) (int64, bool) {
	paths := cgroupPaths(filepath.Join(root, "proc/self/cgroup"))
	candidates := []string{
		filepath.Join(root, "sys/fs/cgroup", paths[""], "memory.max"),
		filepath.Join(root, "sys/fs/cgroup/memory.max"),
		filepath.Join(root, "sys/fs/cgroup/memory", paths["memory"], "memory.limit_in_bytes"),
		filepath.Join(root, "sys/fs/cgroup/memory/memory.limit_in_bytes"),
	}
	for _, path := range candidates {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		v := strings.TrimSpace(string(data))
		if v == "max" {
			return 0, false
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 || n >= unlimited {
			return 0, false
		}
		return n, true
	}
	return 0, false
}

// cgroupPaths reads /proc/self/cgroup: the cgroup v2 path under "" and each
// v1 controller's path under its name.
func cgroupPaths(file string) map[string]string {
	paths := map[string]string{}
	data, err := os.ReadFile(file)
	if err != nil {
		return paths
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		// hierarchy-ID:controller-list:path
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, controller := range strings.Split(parts[1], ",") {
			paths[controller] = parts[2]
		}
	}
	return paths
}
