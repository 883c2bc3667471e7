package main

import (
	"context"
	"fmt"
	"io"
)

const usage = `usage: auth-service [command] [flags]

commands:
  serve                 run the HTTP server (the default)
  migrate               apply database migrations (idempotent)
  createsuperuser       create a superuser (prompts; or --email E --noinput
                        with the password in AUTH_SUPERUSER_PASSWORD;
                        --force-weak skips the password policy, for tests)
  healthcheck [--ready] exit 0 if the local server answers /auth/health/
                        (with --ready: /auth/ready/, database and not draining)
  keygen --alg ALG [--out FILE]
                        make a new PEM private key (ES256, EdDSA or RS256):
                        printed, or written to a new mode-0600 FILE
  audit [--email E] [--since 24h] [--json] [--limit N]
                        print the security audit trail, newest first
  import-users FILE     import users from a Django dumpdata JSON file
  users COMMAND         administer accounts: list, show, create, deactivate,
                        activate, set-password, grant-role, revoke-role,
                        revoke-sessions (auth-service users --help)

configuration is read from AUTH_* environment variables; see README.md.
`

// env is what every command gets from the process.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// run dispatches to a command. It is main without the process: tests call it
// with their own arguments, environment and streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	command := "serve"
	if len(args) > 0 {
		command, args = args[0], args[1:]
	}
	switch command {
	case "serve":
		return serve(ctx, e, args)
	case "migrate":
		return migrate(ctx, e, args)
	case "createsuperuser":
		return createSuperuser(ctx, e, args)
	case "healthcheck":
		return healthcheck(ctx, e, args)
	case "keygen":
		return keygen(e, args)
	case "audit":
		return audit(ctx, e, args)
	case "import-users":
		return importUsers(ctx, e, args)
	case "users":
		return users(ctx, e, args)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", command)
}
