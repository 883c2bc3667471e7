package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/config"
)

const usersUsage = `usage: auth-service users COMMAND [flags] ARGS

  list [--json]                         every user, with roles
  show EMAIL [--json]                   one user, with roles and live sessions
  create EMAIL [--role R]... [--staff] [--force-weak]
                                        create an active user; the password is
                                        prompted for, or read from AUTH_USER_PASSWORD
  deactivate EMAIL                      deactivate and revoke every session
  activate EMAIL                        activate (and mark the address verified)
  set-password EMAIL [--force-weak]     set the password (prompted, or
                                        AUTH_USER_PASSWORD); revokes every session
  grant-role EMAIL ROLE                 grant a role; revokes every session
  revoke-role EMAIL ROLE                take a role away; revokes every session
  revoke-sessions EMAIL                 revoke every session

The password policy applies to create and set-password unless --force-weak.
`

// users runs an administration command on accounts. Each goes through one
// use case of the domain (internal/auth/admin.go, roles.go).
func users(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stdout, usersUsage)
		if len(args) == 0 {
			return errors.New("users: a command is required")
		}
		return errHelpShown
	}
	command, args := args[0], args[1:]
	flags := newFlags("users "+command, e)
	var (
		asJSON    = new(bool)
		staff     = new(bool)
		forceWeak = new(bool)
		roles     roleList
		want      int // positional arguments
	)
	switch command {
	case "list":
		asJSON = flags.Bool("json", false, "print JSON")
	case "show":
		asJSON = flags.Bool("json", false, "print JSON")
		want = 1
	case "create":
		flags.Var(&roles, "role", "a role to grant (repeatable)")
		staff = flags.Bool("staff", false, "mark the user as staff (the is_staff claim)")
		forceWeak = flags.Bool("force-weak", false, "accept a password the password policy refuses (tests only)")
		want = 1
	case "set-password":
		forceWeak = flags.Bool("force-weak", false, "accept a password the password policy refuses (tests only)")
		want = 1
	case "deactivate", "activate", "revoke-sessions":
		want = 1
	case "grant-role", "revoke-role":
		want = 2
	default:
		fmt.Fprint(e.stderr, usersUsage)
		return fmt.Errorf("users: unknown command %q", command)
	}
	pos, err := parseInterleaved(flags, args)
	if err != nil {
		return err
	}
	if len(pos) != want {
		return fmt.Errorf("users %s: want %d argument(s), got %d (see auth-service users --help)", command, want, len(pos))
	}
	cfg, err := config.Load(e.getenv)
	if err != nil {
		return err
	}
	hashes := command == "create" || command == "set-password"
	var pw string
	if hashes {
		if pw, err = userPassword(e, cfg); err != nil {
			return err
		}
	}
	svc, st, err := openService(ctx, e, cfg, hashes)
	if err != nil {
		return err
	}
	defer st.Close()
	switch command {
	case "list":
		return listUsers(ctx, e, svc, *asJSON)
	case "show":
		rec, err := svc.ShowUser(ctx, pos[0])
		if err != nil {
			return err
		}
		return printUser(e, rec, *asJSON)
	case "create":
		user, err := svc.CreateAccount(ctx, auth.NewAccount{
			Email: pos[0], Password: pw, Staff: *staff, Roles: roles, SkipPolicy: *forceWeak,
		})
		if err != nil {
			return accountError(err, pos[0])
		}
		fmt.Fprintf(e.stdout, "User created: id %d, %s\n", user.ID, user.Email)
	case "deactivate":
		n, err := svc.DeactivateUser(ctx, pos[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Deactivated %s; %d session(s) revoked\n", auth.TrimEmail(pos[0]), n)
	case "activate":
		if err := svc.ActivateUser(ctx, pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Activated %s\n", auth.TrimEmail(pos[0]))
	case "set-password":
		n, err := svc.SetPassword(ctx, pos[0], pw, *forceWeak)
		if err != nil {
			return accountError(err, pos[0])
		}
		fmt.Fprintf(e.stdout, "Password set for %s; %d session(s) revoked\n", auth.TrimEmail(pos[0]), n)
	case "grant-role", "revoke-role":
		change, verb, unchanged := svc.GrantRole, "granted", "already has"
		if command == "revoke-role" {
			change, verb, unchanged = svc.RevokeRole, "revoked", "does not have"
		}
		changed, err := change(ctx, pos[0], pos[1])
		if err != nil {
			return accountError(err, pos[0])
		}
		if !changed {
			fmt.Fprintf(e.stdout, "Unchanged: %s %s role %s\n", auth.TrimEmail(pos[0]), unchanged, pos[1])
			return nil
		}
		fmt.Fprintf(e.stdout, "Role %s %s for %s; every session revoked\n", pos[1], verb, auth.TrimEmail(pos[0]))
	case "revoke-sessions":
		n, err := svc.RevokeSessions(ctx, pos[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%d session(s) of %s revoked\n", n, auth.TrimEmail(pos[0]))
	}
	return nil
}

// userPassword is the password of create and set-password: AUTH_USER_PASSWORD,
// or asked for twice.
func userPassword(e env, cfg config.Config) (string, error) {
	if cfg.UserPassword != "" {
		return cfg.UserPassword, nil
	}
	return newPrompter(e).newPassword()
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments (`users create EMAIL --role R`), which flag.Parse
// alone stops at, and returns the positional ones.
func parseInterleaved(flags *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := flags.Parse(args); errors.Is(err, flag.ErrHelp) {
			return nil, errHelpShown
		} else if err != nil {
			return nil, err
		}
		if flags.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, flags.Arg(0))
		args = flags.Args()[1:]
	}
}

// roleList collects repeated --role flags.
type roleList []string

func (r *roleList) String() string     { return strings.Join(*r, ",") }
func (r *roleList) Set(v string) error { *r = append(*r, v); return nil }

// userJSON is a user as `users list --json` and `users show --json` print it.
type userJSON struct {
	ID            int64      `json:"id"`
	Email         string     `json:"email"`
	IsActive      bool       `json:"is_active"`
	EmailVerified bool       `json:"email_verified"`
	IsStaff       bool       `json:"is_staff"`
	IsSuperuser   bool       `json:"is_superuser"`
	Roles         []string   `json:"roles"`
	DateJoined    time.Time  `json:"date_joined"`
	LastLogin     *time.Time `json:"last_login"`
	LiveSessions  *int64     `json:"live_sessions,omitempty"`
}

func toJSON(r auth.UserRecord) userJSON {
	roles := append([]string{}, r.Roles...)
	return userJSON{
		ID: r.ID, Email: r.Email, IsActive: r.IsActive, EmailVerified: r.EmailVerifiedAt != nil,
		IsStaff: r.IsStaff, IsSuperuser: r.IsSuperuser, Roles: roles, DateJoined: r.DateJoined, LastLogin: r.LastLogin,
	}
}

func listUsers(ctx context.Context, e env, svc *auth.Service, asJSON bool) error {
	recs, err := svc.ListUsers(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		out := make([]userJSON, len(recs))
		for i, r := range recs {
			out[i] = toJSON(r)
		}
		return json.NewEncoder(e.stdout).Encode(out)
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tEMAIL\tACTIVE\tVERIFIED\tSTAFF\tSUPERUSER\tROLES\tLAST LOGIN")
	for _, r := range recs {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Email, yesNo(r.IsActive), yesNo(r.EmailVerifiedAt != nil),
			yesNo(r.IsStaff), yesNo(r.IsSuperuser), orDash(strings.Join(r.Roles, ",")), when(r.LastLogin))
	}
	return w.Flush()
}

func printUser(e env, r auth.UserRecord, asJSON bool) error {
	if asJSON {
		j := toJSON(r)
		j.LiveSessions = &r.LiveSessions
		return json.NewEncoder(e.stdout).Encode(j)
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "id\t%d\nemail\t%s\nactive\t%s\nemail verified\t%s\nstaff\t%s\nsuperuser\t%s\nroles\t%s\njoined\t%s\nlast login\t%s\nlive sessions\t%d\n",
		r.ID, r.Email, yesNo(r.IsActive), when(r.EmailVerifiedAt), yesNo(r.IsStaff), yesNo(r.IsSuperuser),
		orDash(strings.Join(r.Roles, ", ")), r.DateJoined.Format(time.RFC3339), when(r.LastLogin), r.LiveSessions)
	return w.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}
