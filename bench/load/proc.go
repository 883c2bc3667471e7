package load

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// PIDs lists the processes whose CPU a meter charges to the run: a server's
// one pid, or the PostgreSQL backends of the bench database. It is called at
// the start and at the end of the timed window.
type PIDs func() ([]int, error)

// PID returns a PIDs that always lists pid.
func PID(pid int) PIDs { return func() ([]int, error) { return []int{pid}, nil } }

// userHZ is the unit of utime and stime in /proc/PID/stat: USER_HZ, which
// Linux fixes at 100 for user space on every architecture Go runs on.
const userHZ = 100

// cpuSnapshot is the CPU time (user + system) of each listed process.
type cpuSnapshot map[int]time.Duration

// snapshot reads the CPU time of every process pids lists. A process that
// has gone between listing and reading is skipped.
func snapshot(pids PIDs) (cpuSnapshot, error) {
	list, err := pids()
	if err != nil {
		return nil, err
	}
	s := make(cpuSnapshot, len(list))
	for _, pid := range list {
		d, err := ProcessCPU(pid)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		s[pid] = d
	}
	return s, nil
}

// cpuBetween is the CPU the processes used between two snapshots. A process
// that appeared in between is counted from zero, as it started inside the
// window; one that exited in between is lost (its time is no longer readable).
func cpuBetween(before, after cpuSnapshot) time.Duration {
	var sum time.Duration
	for pid, a := range after {
		sum += a - before[pid]
	}
	return sum
}

// ProcessCPU returns the user + system CPU time pid has used so far, all its
// threads included, from /proc/PID/stat (Linux only).
func ProcessCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseStat(data)
}

// parseStat reads utime and stime (fields 14 and 15) from the contents of a
// /proc/PID/stat file. The command name (field 2) is parenthesised and may
// itself hold spaces and parentheses, so fields are counted after the last ')'.
func parseStat(data []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, errors.New("load: malformed /proc stat: no command name")
	}
	fields := bytes.Fields(data[i+1:])
	// fields[0] is field 3 (state), so field n is fields[n-3].
	if len(fields) < 13 {
		return 0, fmt.Errorf("load: malformed /proc stat: %d fields", len(fields)+2)
	}
	utime, err1 := strconv.ParseInt(string(fields[14-3]), 10, 64)
	stime, err2 := strconv.ParseInt(string(fields[15-3]), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("load: malformed /proc stat: %w", err)
	}
	return time.Duration(utime+stime) * time.Second / userHZ, nil
}
