package memlimit

import (
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

// fakeRoot writes files (path relative to a new root: contents) and returns the root.
func fakeRoot(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for path, data := range files {
		full := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestCgroupLimit(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  int64
		ok    bool
	}{
		{"v2 in a namespace", map[string]string{"proc/self/cgroup": "0::/\n", "sys/fs/cgroup/memory.max": "536870912\n"}, 512 << 20, true},
		{"v2 nested", map[string]string{"proc/self/cgroup": "0::/kubepods/pod1\n", "sys/fs/cgroup/kubepods/pod1/memory.max": "268435456\n"}, 256 << 20, true},
		{"v2 unlimited", map[string]string{"proc/self/cgroup": "0::/\n", "sys/fs/cgroup/memory.max": "max\n"}, 0, false},
		{"v1", map[string]string{"proc/self/cgroup": "4:memory:/docker/abc\n0::/\n", "sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes": "1073741824\n"}, 1 << 30, true},
		{"v1 unlimited", map[string]string{"proc/self/cgroup": "4:memory:/x\n", "sys/fs/cgroup/memory/x/memory.limit_in_bytes": "9223372036854771712\n"}, 0, false},
		{"none", map[string]string{}, 0, false},
	}
	for _, c := range cases {
		got, ok := cgroupLimit(fakeRoot(t, c.files))
		if got != c.want || ok != c.ok {
			t.Errorf("%s: cgroupLimit = %d, %v; want %d, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

// GOMEMLIMIT wins, then the setting, then the cgroup, then the fallback.
func TestApplyPrecedence(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "GOMEMLIMIT" {
				return v
			}
			return ""
		}
	}
	debug.SetMemoryLimit(300 << 20) // as the runtime would from GOMEMLIMIT=300MiB
	if got, src := Apply(env("300MiB"), 100, 50); got != 300<<20 || src != FromGOMEMLIMIT {
		t.Errorf("with GOMEMLIMIT: %d %s", got, src)
	}
	if got, src := Apply(env(""), 100, 50); got != 100<<20 || src != FromSetting || debug.SetMemoryLimit(-1) != 100<<20 {
		t.Errorf("with the setting: %d %s", got, src)
	}
	if _, ok := cgroupLimit("/"); !ok {
		if got, src := Apply(env(""), 0, 50); got != 50<<20 || src != FromDefault || debug.SetMemoryLimit(-1) != 50<<20 {
			t.Errorf("fallback: %d %s", got, src)
		}
	}
}
