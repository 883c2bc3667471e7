package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// command runs a one-off command to completion within timeout and returns
// its error with its output, which is otherwise discarded.
func command(ctx context.Context, timeout time.Duration, env []string, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

// server is a process the benchmark started and stops.
type server struct {
	name   string
	url    string
	cmd    *exec.Cmd
	stderr string // file
	exited chan struct{}
}

// startServer starts name with args and env, its stdout to stdoutPath and its
// stderr to a file in dir, listening on addr. The process is killed if this
// one dies (Pdeathsig), so that an interrupted run leaves nothing behind.
func startServer(label, dir, addr, stdoutPath string, env []string, name string, args ...string) (*server, error) {
	stdout, err := os.OpenFile(stdoutPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	defer stdout.Close()
	s := &server{name: label, url: "http://" + addr, stderr: dir + "/" + label + ".stderr", exited: make(chan struct{})}
	stderr, err := os.Create(s.stderr)
	if err != nil {
		return nil, err
	}
	defer stderr.Close()
	s.cmd = exec.Command(name, args...)
	s.cmd.Env, s.cmd.Stdout, s.cmd.Stderr = env, stdout, stderr
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.cmd.Wait(); close(s.exited) }()
	return s, nil
}

// pid returns the server's process id.
func (s *server) pid() int { return s.cmd.Process.Pid }

// alive reports whether the process is still running.
func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// stderrTail returns the end of what the process wrote to stderr.
func (s *server) stderrTail() string {
	data, _ := os.ReadFile(s.stderr)
	data = bytes.TrimSpace(data)
	if len(data) > 2000 {
		data = data[len(data)-2000:]
	}
	return string(data)
}

// waitReady polls the health endpoint until it answers 200, the process
// exits or timeout passes.
func (s *server) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(s.url + "/auth/health/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if !s.alive() {
			return fmt.Errorf("%s exited at start-up: %s", s.name, s.stderrTail())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v: %v", s.name, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM (a graceful shutdown), then SIGKILL after grace.
func (s *server) stop(grace time.Duration) {
	if !s.alive() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(grace):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// freeAddr returns a loopback address with a port free at the time of the
// call.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// setEnv returns env with the given name=value pairs set (later entries win
// in exec.Cmd.Env).
func setEnv(env []string, kv ...string) []string {
	if len(kv)%2 != 0 {
		panic("setEnv: want name, value pairs")
	}
	out := append([]string(nil), env...)
	for i := 0; i < len(kv); i += 2 {
		out = append(out, kv[i]+"="+kv[i+1])
	}
	return out
}

var errNoRepo = errors.New("run from the repository root (where go.mod is): make bench")
