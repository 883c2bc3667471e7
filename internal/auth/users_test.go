package auth_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/store"
	"github.com/ecommerce/auth-service/internal/storetest"
)

var offset = time.FixedZone("UTC+5", 5*3600)

// importFile is the users of a Django export, ids out of order.
func importFile() []auth.User {
	last := time.Date(2025, 12, 24, 18, 0, 0, 999999999, offset)
	return []auth.User{
		{ID: 100, Email: "Hundred@x.com", PasswordHash: "pbkdf2_sha256$a", IsActive: true, DateJoined: time.Date(2019, 5, 6, 7, 8, 9, 123456000, time.UTC)},
		{ID: 205, Email: "admin@x.com", PasswordHash: "pbkdf2_sha256$b", IsActive: true, IsStaff: true, IsSuperuser: true, DateJoined: time.Date(2018, 1, 1, 0, 0, 0, 0, offset), LastLogin: &last},
		{ID: 7, Email: "seven@x.com", PasswordHash: "pbkdf2_sha256$c", IsActive: false, DateJoined: time.Date(2017, 2, 3, 4, 5, 6, 7000, time.UTC)},
	}
}

func TestImportUsers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := t.Context()
		r := newRig(t, st, testKeys(t), &clock{now: base}, 0)
		early := r.createUser(t, "early@x.com")
		file := importFile()

		res, err := r.svc.ImportUsers(ctx, file)
		if err != nil || res != (auth.ImportResult{Created: 3}) {
			t.Fatalf("ImportUsers = %+v, %v; want Created 3", res, err)
		}
		for _, want := range file {
			got, err := st.UserByID(ctx, want.ID)
			if err != nil {
				t.Errorf("UserByID(%d) after import: %v", want.ID, err)
				continue
			}
			if got.Email != want.Email || got.PasswordHash != want.PasswordHash || got.IsActive != want.IsActive ||
				got.IsStaff != want.IsStaff || got.IsSuperuser != want.IsSuperuser || !got.DateJoined.Equal(want.DateJoined.Truncate(time.Microsecond)) {
				t.Errorf("imported user %d = %+v, want %+v", want.ID, got, want)
			}
			if (want.LastLogin == nil) != (got.LastLogin == nil) || (want.LastLogin != nil && !got.LastLogin.Equal(want.LastLogin.Truncate(time.Microsecond))) {
				t.Errorf("user %d LastLogin = %v, want %v", want.ID, got.LastLogin, want.LastLogin)
			}
		}

		// A hash upgraded since the first run survives the second.
		if _, err := st.ReplacePasswordHash(ctx, 205, "pbkdf2_sha256$b", "argon2id$new"); err != nil {
			t.Fatal(err)
		}
		res, err = r.svc.ImportUsers(ctx, file)
		if err != nil || res != (auth.ImportResult{Unchanged: 3}) {
			t.Errorf("second ImportUsers = %+v, %v; want Unchanged 3", res, err)
		}
		if got, _ := st.UserByID(ctx, 205); got.PasswordHash != "argon2id$new" {
			t.Errorf("second import overwrote the hash: %q", got.PasswordHash)
		}

		allIDs := []int64{early.ID, 7, 100, 205, 300, 301, 302, 303, 304}
		count := func() int {
			n := 0
			for _, id := range allIDs {
				if _, err := st.UserByID(ctx, id); err == nil {
					n++
				} else if !errors.Is(err, auth.ErrNotFound) {
					t.Fatalf("UserByID(%d): %v", id, err)
				}
			}
			return n
		}
		before := count()
		if before != 4 {
			t.Fatalf("%d users before the failing imports, want 4", before)
		}
		u := func(id int64, email string) auth.User {
			return auth.User{ID: id, Email: email, PasswordHash: "h", DateJoined: base}
		}
		failing := map[string]struct {
			users []auth.User
			want  error
		}{
			// The clash comes after a good new user: it must be rolled back.
			"same id, other email":                {[]auth.User{u(300, "new300@x.com"), u(100, "someone-else@x.com")}, auth.ErrConflict},
			"new id, email taken in another case": {[]auth.User{u(301, "new301@x.com"), u(302, "ADMIN@X.COM")}, auth.ErrConflict},
			"new id, email of a created user":     {[]auth.User{u(303, "new303@x.com"), u(304, "early@x.com")}, auth.ErrConflict},
			"two new users with one email":        {[]auth.User{u(303, "twice@x.com"), u(304, "Twice@x.com")}, auth.ErrConflict},
			"an invalid email":                    {[]auth.User{u(303, "new303@x.com"), u(304, "not an email")}, auth.ErrInvalidUser},
			"no password hash":                    {[]auth.User{u(303, "new303@x.com"), {ID: 304, Email: "nohash@x.com", DateJoined: base}}, auth.ErrInvalidUser},
		}
		for name, c := range failing {
			res, err := r.svc.ImportUsers(ctx, c.users)
			if !errors.Is(err, c.want) {
				t.Errorf("ImportUsers %s: %v, want %v", name, err, c.want)
			}
			if res != (auth.ImportResult{}) {
				t.Errorf("ImportUsers %s = %+v on failure, want zero", name, res)
			}
			if after := count(); after != before {
				t.Errorf("ImportUsers %s: %d users after, %d before: not atomic", name, after, before)
			}
		}
		if got, _ := st.UserByID(ctx, 100); got.Email != "Hundred@x.com" {
			t.Errorf("a failed import changed user 100: %+v", got)
		}

		// New users get ids above the imported ones.
		if after := r.createUser(t, "after@x.com"); after.ID <= 205 {
			t.Errorf("CreateUser after import got id %d, want > 205", after.ID)
		}
	})
}

// "Élodie@Example.com" and "élodie@example.com" are one account on both
// stores: one logs in with the other, and cannot be created twice.
func TestNonASCIIEmailIsOneAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		r := newRig(t, st, testKeys(t), &clock{now: base}, 0)
		u := r.createUser(t, "Élodie@Example.com")
		if _, err := r.svc.Login(t.Context(), "élodie@example.com", "pw-12345"); err != nil {
			t.Errorf("login with the lower-case address: %v", err)
		}
		if _, err := r.svc.CreateUser(t.Context(), "ÉLODIE@EXAMPLE.COM", "pw-12345", false, false); !errors.Is(err, auth.ErrConflict) {
			t.Errorf("a second account in another case: %v, want ErrConflict", err)
		}
		if u.Email != "Élodie@Example.com" {
			t.Errorf("stored as %q, want the address as given", u.Email)
		}
	})
}

func ExampleEmailKey() {
	fmt.Println(auth.EmailKey("  Élodie@Example.COM "))
	fmt.Println(auth.EmailKey("E\u0301lodie@example.com") == auth.EmailKey("élodie@example.com"))
	// Output:
	// élodie@example.com
	// true
}
