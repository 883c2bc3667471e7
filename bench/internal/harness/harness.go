// Package harness runs what the benchmark programs (bench/cmd/...) drive: it
// builds and starts processes, stops them on the way out, and makes a fresh
// PostgreSQL database for a run.
package harness

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Command runs a one-off command to completion within timeout and returns
// its error with its output, which is otherwise discarded.
func Command(ctx context.Context, timeout time.Duration, env []string, name string, args ...string) error {
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

// Server is a process the benchmark started and stops.
type Server struct {
	name   string
	URL    string
	cmd    *exec.Cmd
	stderr string // file
	exited chan struct{}
}

// StartServer starts name with args and env, its stdout to stdoutPath and its
// stderr to a file in dir, listening on addr. The process is killed if this
// one dies (Pdeathsig), so that an interrupted run leaves nothing behind.
func StartServer(label, dir, addr, stdoutPath string, env []string, name string, args ...string) (*Server, error) {
	stdout, err := os.OpenFile(stdoutPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	defer stdout.Close()
	s := &Server{name: label, URL: "http://" + addr, stderr: dir + "/" + label + ".stderr", exited: make(chan struct{})}
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

// PID returns the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Alive reports whether the process is still running.
func (s *Server) Alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// StderrTail returns the end of what the process wrote to stderr.
func (s *Server) StderrTail() string {
	data, _ := os.ReadFile(s.stderr)
	data = bytes.TrimSpace(data)
	if len(data) > 2000 {
		data = data[len(data)-2000:]
	}
	return string(data)
}

// WaitReady polls the health endpoint until it answers 200, the process
// exits or timeout passes.
func (s *Server) WaitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(s.URL + "/auth/health/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if !s.Alive() {
			return fmt.Errorf("%s exited at start-up: %s", s.name, s.StderrTail())
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

// Stop sends SIGTERM (a graceful shutdown), then SIGKILL after grace.
func (s *Server) Stop(grace time.Duration) {
	if !s.Alive() {
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

// FreeAddr returns a loopback address with a port free at the time of the
// call.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// SetEnv returns env with the given name=value pairs set (later entries win
// in exec.Cmd.Env).
func SetEnv(env []string, kv ...string) []string {
	if len(kv)%2 != 0 {
		panic("harness.SetEnv: want name, value pairs")
	}
	out := append([]string(nil), env...)
	for i := 0; i < len(kv); i += 2 {
		out = append(out, kv[i]+"="+kv[i+1])
	}
	return out
}

// ErrNoRepo is returned by programs run from elsewhere than the repository root.
var ErrNoRepo = errors.New("run from the repository root (where go.mod is), as make does")

// NewDatabase creates a fresh database on the PostgreSQL server of pgURL and
// returns its URL, and drop, which removes it (to be called on the way out).
func NewDatabase(ctx context.Context, pgURL, prefix string) (dbURL string, drop func(), err error) {
	admin, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		return "", nil, fmt.Errorf("PostgreSQL at %s: %w", pgURL, err)
	}
	name := prefix + strings.ToLower(rand.Text()[:12])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close(context.Background())
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	drop = func() {
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.Exec(c, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			fmt.Fprintf(os.Stderr, "drop database %s: %v\n", name, err)
		}
		admin.Close(context.Background())
	}
	u, err := url.Parse(pgURL)
	if err != nil {
		drop()
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}
