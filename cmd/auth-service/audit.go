package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/config"
)

// audit prints the security audit trail, newest first: every event, or
// those of one address (the account that has it, and failures typed with
// it), since a time.
func audit(ctx context.Context, e env, args []string) error {
	flags := newFlags("audit", e)
	email := flags.String("email", "", "only the events of this address: its account's, and failed logins typed with it")
	since := flags.String("since", "24h", "how far back (Go duration, or whole days such as 7d)")
	asJSON := flags.Bool("json", false, "one JSON object per line instead of a table")
	limit := flags.Int("limit", 1000, "print at most this many events, the newest")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	back, err := config.ParseDuration(*since)
	if err != nil || back <= 0 {
		return fmt.Errorf("audit: --since %q is not a positive duration (such as 24h or 7d)", *since)
	}
	if *limit <= 0 {
		return fmt.Errorf("audit: --limit must be positive")
	}
	cfg, err := config.Load(e.getenv)
	if err != nil {
		return err
	}
	st, err := openForCommand(ctx, e, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := auth.New(st, nil, nil, time.Now, auth.Params{}, commandLogger(e, cfg))
	events, err := svc.SecurityEvents(ctx, auth.EventQuery{Email: *email, Since: time.Now().Add(-back), Limit: *limit})
	if err != nil {
		return err
	}
	if *asJSON {
		return printEventsJSON(e, events)
	}
	return printEventsTable(e, events)
}

// auditEvent is an event as `audit --json` prints it.
type auditEvent struct {
	Time      time.Time `json:"time"`
	Kind      string    `json:"kind"`
	UserID    int64     `json:"user_id,omitempty"`
	UserEmail string    `json:"user_email,omitempty"`
	SessionID string    `json:"session_id,omitempty"`
	Address   string    `json:"client_address,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	RequestID string    `json:"request_id,omitempty"`
	Email     string    `json:"email_typed,omitempty"`
	Detail    string    `json:"detail,omitempty"`
}

func printEventsJSON(e env, events []auth.SecurityEvent) error {
	enc := json.NewEncoder(e.stdout)
	for _, ev := range events {
		err := enc.Encode(auditEvent{
			Time: ev.At, Kind: string(ev.Kind), UserID: ev.UserID, UserEmail: ev.UserEmail, SessionID: ev.SessionID,
			Address: ev.Client.Address, UserAgent: ev.Client.UserAgent, RequestID: ev.Client.RequestID,
			Email: ev.Email, Detail: ev.Detail,
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func printEventsTable(e env, events []auth.SecurityEvent) error {
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TIME\tEVENT\tUSER\tSESSION\tCLIENT\tUSER AGENT\tREQUEST\tEMAIL TYPED\tDETAIL")
	for _, ev := range events {
		user := "-"
		if ev.UserID != 0 {
			user = fmt.Sprintf("%d %s", ev.UserID, ev.UserEmail)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%q\t%s\t%q\t%s\n", ev.At.UTC().Format(time.RFC3339), ev.Kind, user, dash(ev.SessionID),
			dash(ev.Client.Address), ev.Client.UserAgent, dash(ev.Client.RequestID), ev.Email, dash(ev.Detail))
	}
	if len(events) == 0 {
		fmt.Fprintln(w, "(no events)")
	}
	return w.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
