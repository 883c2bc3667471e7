package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/config"
	"github.com/ecommerce/auth-service/internal/logging"
	"github.com/ecommerce/auth-service/internal/password"
	"github.com/ecommerce/auth-service/internal/store"
	"github.com/ecommerce/auth-service/internal/token"
	"github.com/ecommerce/auth-service/internal/userimport"
)

// errHelpShown ends a command whose help was asked for: not a failure.
var errHelpShown = errors.New("help shown")

// newFlags returns an empty flag set for a command, reporting to stderr.
func newFlags(command string, e env) *flag.FlagSet {
	flags := flag.NewFlagSet(command, flag.ContinueOnError)
	flags.SetOutput(e.stderr)
	return flags
}

// parseFlags parses a command's flags and refuses stray arguments.
func parseFlags(flags *flag.FlagSet, args []string) error {
	if err := flags.Parse(args); errors.Is(err, flag.ErrHelp) {
		return errHelpShown
	} else if err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %q", flags.Name(), flags.Args())
	}
	return nil
}

// migrate applies the embedded migrations to the configured database.
func migrate(ctx context.Context, e env, args []string) error {
	if err := parseFlags(newFlags("migrate", e), args); err != nil {
		return err
	}
	cfg, err := config.Load(e.getenv)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, commandLogger(e, cfg))
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "migrations applied")
	return nil
}

// commandLogger sends a one-off command's log to stderr, so that its stdout
// carries only its result.
func commandLogger(e env, cfg config.Config) *slog.Logger {
	return logging.New(e.stderr, cfg.LogLevel)
}

// openForCommand opens the store for a one-off command, migrating it first
// where serve would (AUTH_MIGRATE_ON_START).
func openForCommand(ctx context.Context, e env, cfg config.Config) (store.DB, error) {
	st, err := openStore(ctx, cfg, commandLogger(e, cfg))
	if err != nil {
		return nil, err
	}
	if cfg.MigrateOnStart {
		if err := st.Migrate(ctx); err != nil {
			st.Close()
			return nil, err
		}
	}
	return st, nil
}

// createSuperuser creates a staff superuser, prompting for what the flags
// and environment do not give. The password policy applies unless
// --force-weak.
func createSuperuser(ctx context.Context, e env, args []string) error {
	flags := newFlags("createsuperuser", e)
	email := flags.String("email", "", "the superuser's email")
	noInput := flags.Bool("noinput", false, "do not prompt; the password comes from AUTH_SUPERUSER_PASSWORD")
	forceWeak := flags.Bool("force-weak", false, "accept a password the password policy refuses (tests only)")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	cfg, err := config.Load(e.getenv)
	if err != nil {
		return err
	}
	pw := cfg.SuperuserPassword
	if *noInput {
		if *email == "" || pw == "" {
			return errors.New("createsuperuser --noinput needs --email and AUTH_SUPERUSER_PASSWORD")
		}
	} else {
		in := newPrompter(e)
		if *email == "" {
			if *email, err = in.line("Email: "); err != nil {
				return err
			}
		}
		if pw, err = in.newPassword(); err != nil {
			return err
		}
	}
	svc, st, err := openService(ctx, e, cfg, true)
	if err != nil {
		return err
	}
	defer st.Close()
	user, err := svc.CreateAccount(ctx, auth.NewAccount{
		Email: *email, Password: pw, Staff: true, Superuser: true, SkipPolicy: *forceWeak,
	})
	if err != nil {
		return accountError(err, *email)
	}
	fmt.Fprintf(e.stdout, "Superuser created: id %d, %s\n", user.ID, user.Email)
	return nil
}

// openService opens the store for a command and the domain over it; the
// password hasher only if the command hashes.
func openService(ctx context.Context, e env, cfg config.Config, hashes bool) (*auth.Service, store.DB, error) {
	var hasher auth.Hasher
	if hashes {
		h, err := password.New(cfg.Password)
		if err != nil {
			return nil, nil, err
		}
		hasher = h
	}
	st, err := openForCommand(ctx, e, cfg)
	if err != nil {
		return nil, nil, err
	}
	return auth.New(st, nil, hasher, time.Now, accountParams(cfg), commandLogger(e, cfg)), st, nil
}

// accountError words the domain's refusals of an account command for the
// person at the terminal.
func accountError(err error, email string) error {
	var refusal *auth.PasswordRefusal
	switch {
	case errors.As(err, &refusal):
		return fmt.Errorf("password refused: %s (--force-weak accepts it, for tests)", refusal.Message)
	case errors.Is(err, auth.ErrConflict):
		return fmt.Errorf("a user with email %q already exists", auth.TrimEmail(email))
	case errors.Is(err, auth.ErrInvalidUser):
		return fmt.Errorf("%q is not a valid email address, or the password is empty", email)
	case errors.Is(err, auth.ErrInvalidRole):
		return fmt.Errorf("%w: a role is lower case, starts with a letter, and has at most 64 of a-z 0-9 _ : . -", err)
	}
	return err
}

// prompter reads answers from stdin: passwords without echo on a terminal,
// plain lines otherwise (for scripts).
type prompter struct {
	e      env
	reader *bufio.Reader
}

func newPrompter(e env) *prompter { return &prompter{e: e, reader: bufio.NewReader(e.stdin)} }

func (p *prompter) line(prompt string) (string, error) {
	fmt.Fprint(p.e.stderr, prompt)
	s, err := p.reader.ReadString('\n')
	if err != nil && (s == "" || !errors.Is(err, io.EOF)) {
		return "", fmt.Errorf("read %s: %w", strings.TrimSuffix(prompt, ": "), err)
	}
	return strings.TrimRight(s, "\r\n"), nil
}

// newPassword asks for a password twice and fails if the answers differ.
func (p *prompter) newPassword() (string, error) {
	pw, err := p.secret("Password: ")
	if err != nil {
		return "", err
	}
	again, err := p.secret("Password (again): ")
	if err != nil {
		return "", err
	}
	if pw != again {
		return "", errors.New("the passwords do not match")
	}
	return pw, nil
}

func (p *prompter) secret(prompt string) (string, error) {
	if f, ok := p.e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(p.e.stderr, prompt)
		pw, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(p.e.stderr)
		return string(pw), err
	}
	return p.line(prompt)
}

// healthcheck asks the local server for /auth/health/ (liveness, for the
// image's HEALTHCHECK), or with --ready for /auth/ready/ (readiness: the
// database answers and the server is not shutting down), and fails unless
// it answers 200.
func healthcheck(ctx context.Context, e env, args []string) error {
	flags := newFlags("healthcheck", e)
	ready := flags.Bool("ready", false, "check readiness (/auth/ready/) instead of liveness")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	path, state := "/auth/health/", "healthy"
	if *ready {
		path, state = "/auth/ready/", "ready"
	}
	cfg, err := config.Load(e.getenv)
	if err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("AUTH_LISTEN_ADDR: %w", err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("not %s: %w", state, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("not %s: status %d", state, resp.StatusCode)
	}
	fmt.Fprintln(e.stdout, state)
	return nil
}

// keygen makes a new private key for an asymmetric algorithm: printed, or
// with --out written to a new file readable by its owner only (mode 0600;
// an existing file is never overwritten), and its kid printed.
func keygen(e env, args []string) error {
	flags := newFlags("keygen", e)
	alg := flags.String("alg", token.ES256, "ES256, EdDSA or RS256")
	out := flags.String("out", "", "write the key to this new file (mode 0600) instead of stdout, and print its kid")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	pem, err := token.GenerateKey(*alg)
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = e.stdout.Write(pem)
		return err
	}
	keys, err := token.NewAsymmetric(*alg, [][]byte{pem}, "")
	if err != nil {
		return err
	}
	if info, err := os.Lstat(*out); err == nil && info.Mode().IsRegular() && info.Size() == 0 {
		// An empty file, such as mktemp's, holds no key to lose: it is
		// replaced by one created 0600, whatever its own mode was.
		if err := os.Remove(*out); err != nil {
			return fmt.Errorf("keygen: %w", err)
		}
	}
	if err := createExclusive(*out, pem); errors.Is(err, os.ErrExist) {
		return fmt.Errorf("keygen: %s exists; refusing to overwrite a key", *out)
	} else if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	fmt.Fprintf(e.stdout, "wrote %s (%s, mode 0600), kid %s\n", *out, *alg, keys.JWKS()[0].Kid)
	return nil
}

// importUsers loads a Django dumpdata file of the custom user model, keeping
// ids and password hashes, in one transaction.
func importUsers(ctx context.Context, e env, args []string) error {
	flags := newFlags("import-users", e)
	if err := flags.Parse(args); errors.Is(err, flag.ErrHelp) {
		return errHelpShown
	} else if err != nil {
		return err
	}
	if args = flags.Args(); len(args) != 1 {
		return errors.New("usage: auth-service import-users FILE")
	}
	cfg, err := config.Load(e.getenv)
	if err != nil {
		return err
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	users, err := userimport.Parse(f)
	if err != nil {
		return fmt.Errorf("%s: %w (nothing was imported)", args[0], err)
	}
	st, err := openForCommand(ctx, e, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := auth.New(st, nil, nil, time.Now, auth.Params{}, commandLogger(e, cfg))
	res, err := svc.ImportUsers(ctx, users)
	if err != nil {
		return fmt.Errorf("%s: %w (nothing was imported)", args[0], err)
	}
	fmt.Fprintf(e.stdout, "users in file: %d, created: %d, unchanged: %d\n", len(users), res.Created, res.Unchanged)
	return nil
}
