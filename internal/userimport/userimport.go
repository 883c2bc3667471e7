// Package userimport reads the JSON that Django's `manage.py dumpdata` writes
// for the old service's custom user model, so that its users move over with
// their ids and password hashes (which the password package verifies).
package userimport

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
)

// record is one object of a dumpdata file.
type record struct {
	Model  string `json:"model"`
	PK     *int64 `json:"pk"`
	Fields *struct {
		Email       *string `json:"email"`
		Password    *string `json:"password"`
		IsActive    *bool   `json:"is_active"`
		IsStaff     bool    `json:"is_staff"`
		IsSuperuser bool    `json:"is_superuser"`
		DateJoined  *string `json:"date_joined"`
		LastLogin   *string `json:"last_login"`
	} `json:"fields"`
}

// Parse reads a whole dumpdata file and returns its users, for
// auth.Service.ImportUsers, or an error naming the first bad record; it never
// returns part of a file. Emails follow the service's one rule (auth.ValidEmail,
// auth.EmailKey), and must come without surrounding white space.
func Parse(r io.Reader) ([]auth.User, error) {
	var records []record
	dec := json.NewDecoder(r)
	if err := dec.Decode(&records); err != nil {
		return nil, fmt.Errorf("not a dumpdata JSON array: %w", err)
	}
	if records == nil { // the input was null, which decodes without error
		return nil, errors.New("not a dumpdata JSON array: null")
	}
	// Not dec.More: it reports false for a stray ']' or '}' after the array.
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON array")
	}
	users := make([]auth.User, 0, len(records))
	ids := map[int64]bool{}
	emails := map[string]bool{}
	for i, rec := range records {
		u, err := convert(rec)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i+1, err)
		}
		key := auth.EmailKey(u.Email)
		if ids[u.ID] || emails[key] {
			return nil, fmt.Errorf("record %d: duplicate pk %d or email %q", i+1, u.ID, u.Email)
		}
		ids[u.ID], emails[key] = true, true
		users = append(users, u)
	}
	return users, nil
}

func convert(rec record) (auth.User, error) {
	f := rec.Fields
	switch {
	case rec.PK == nil || *rec.PK <= 0:
		return auth.User{}, errors.New(`"pk" must be a positive integer`)
	case f == nil:
		return auth.User{}, errors.New(`"fields" is missing`)
	case f.Email == nil || !auth.ValidEmail(*f.Email) || auth.TrimEmail(*f.Email) != *f.Email:
		return auth.User{}, errors.New(`"email" is missing or not an address`)
	case f.Password == nil || *f.Password == "":
		return auth.User{}, errors.New(`"password" is missing`)
	case f.DateJoined == nil:
		return auth.User{}, errors.New(`"date_joined" is missing`)
	}
	joined, err := parseTime(*f.DateJoined)
	if err != nil {
		return auth.User{}, fmt.Errorf(`"date_joined": %w`, err)
	}
	u := auth.User{
		ID: *rec.PK, Email: *f.Email, PasswordHash: *f.Password, IsActive: true,
		IsStaff: f.IsStaff, IsSuperuser: f.IsSuperuser, DateJoined: joined,
	}
	if f.IsActive != nil {
		u.IsActive = *f.IsActive
	}
	if f.LastLogin != nil {
		t, err := parseTime(*f.LastLogin)
		if err != nil {
			return auth.User{}, fmt.Errorf(`"last_login": %w`, err)
		}
		u.LastLogin = &t
	}
	return u, nil
}

// parseTime reads DjangoJSONEncoder's datetimes: RFC 3339 with an offset or
// "Z", or a naive time (USE_TZ = False), taken as UTC.
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 date-time", s)
}
