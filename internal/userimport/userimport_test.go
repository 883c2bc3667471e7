package userimport_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/password"
	"github.com/ecommerce/auth-service/internal/userimport"
)

const pbkdf2Hash = "pbkdf2_sha256$1000$9Th0R7QvQmCQwjqVOav7RG$CvIZjp0OANlPBmhNWPgPlbD/dbC07yE+/m4e3IJbjVY="

// fields is one record's "fields" object as dumpdata writes it; the
// placeholders are the values tests vary.
type fields struct {
	Password, LastLogin, Email, DateJoined string // raw JSON values
	IsActive, IsStaff, IsSuperuser         string
}

func defaultFields(email string) fields {
	return fields{
		Password: `"` + pbkdf2Hash + `"`, LastLogin: "null", Email: `"` + email + `"`,
		DateJoined: `"2024-01-01T00:00:00Z"`, IsActive: "true", IsStaff: "false", IsSuperuser: "false",
	}
}

// record renders one dumpdata object; an empty raw value leaves the field out.
func record(pk string, f fields) string {
	var members []string
	add := func(name, raw string) {
		if raw != "" {
			members = append(members, fmt.Sprintf("%q: %s", name, raw))
		}
	}
	add("password", f.Password)
	add("last_login", f.LastLogin)
	add("is_superuser", f.IsSuperuser)
	add("email", f.Email)
	add("is_active", f.IsActive)
	add("is_staff", f.IsStaff)
	add("date_joined", f.DateJoined)
	members = append(members, `"groups": []`, `"user_permissions": []`)
	obj := `{"model": "accounts.user"`
	if pk != "" {
		obj += `, "pk": ` + pk
	}
	return obj + `, "fields": {` + strings.Join(members, ", ") + `}}`
}

func array(records ...string) string { return "[" + strings.Join(records, ",\n") + "]" }

func parse(tb testing.TB, input string) []auth.User {
	tb.Helper()
	users, err := userimport.Parse(strings.NewReader(input))
	if err != nil {
		tb.Fatalf("Parse: %v\ninput: %s", err, input)
	}
	return users
}

func date(y int, m time.Month, d, h, min, s, ms int) time.Time {
	return time.Date(y, m, d, h, min, s, ms*int(time.Millisecond), time.UTC)
}

// sameUser compares users, times by instant and in UTC.
func sameUser(tb testing.TB, got, want auth.User) {
	tb.Helper()
	if got.ID != want.ID || got.Email != want.Email || got.PasswordHash != want.PasswordHash ||
		got.IsActive != want.IsActive || got.IsStaff != want.IsStaff || got.IsSuperuser != want.IsSuperuser {
		tb.Errorf("user = %+v; want %+v", got, want)
	}
	if !got.DateJoined.Equal(want.DateJoined) || got.DateJoined.Location() != time.UTC {
		tb.Errorf("DateJoined = %v; want %v in UTC", got.DateJoined, want.DateJoined)
	}
	switch {
	case want.LastLogin == nil && got.LastLogin != nil:
		tb.Errorf("LastLogin = %v; want nil", *got.LastLogin)
	case want.LastLogin != nil && got.LastLogin == nil:
		tb.Errorf("LastLogin = nil; want %v", *want.LastLogin)
	case want.LastLogin != nil && (!got.LastLogin.Equal(*want.LastLogin) || got.LastLogin.Location() != time.UTC):
		tb.Errorf("LastLogin = %v; want %v in UTC", *got.LastLogin, *want.LastLogin)
	}
}

func TestParseExample(t *testing.T) {
	input := `[{"model":"accounts.user","pk":1,"fields":{"password":"` + pbkdf2Hash + `","last_login":null,"is_superuser":false,"email":"a@example.com","is_active":true,"is_staff":false,"date_joined":"2024-01-01T00:00:00Z","groups":[],"user_permissions":[]}}]`
	users := parse(t, input)
	if len(users) != 1 {
		t.Fatalf("Parse returned %d users; want 1", len(users))
	}
	sameUser(t, users[0], auth.User{
		ID: 1, Email: "a@example.com", PasswordHash: pbkdf2Hash, IsActive: true,
		DateJoined: date(2024, 1, 1, 0, 0, 0, 0),
	})
}

func TestParseFields(t *testing.T) {
	lastLogin := date(2024, 1, 2, 3, 4, 5, 123)
	tests := []struct {
		name   string
		pk     string
		modify func(*fields)
		want   auth.User
	}{
		{"defaults", "1", func(*fields) {}, auth.User{ID: 1, IsActive: true, DateJoined: date(2024, 1, 1, 0, 0, 0, 0)}},
		{"large pk", "9007199254740993", func(*fields) {},
			auth.User{ID: 9007199254740993, IsActive: true, DateJoined: date(2024, 1, 1, 0, 0, 0, 0)}},
		{"flags", "2", func(f *fields) { f.IsActive, f.IsStaff, f.IsSuperuser = "false", "true", "true" },
			auth.User{ID: 2, IsActive: false, IsStaff: true, IsSuperuser: true, DateJoined: date(2024, 1, 1, 0, 0, 0, 0)}},
		{"is_active missing means active", "3", func(f *fields) { f.IsActive = "" },
			auth.User{ID: 3, IsActive: true, DateJoined: date(2024, 1, 1, 0, 0, 0, 0)}},
		{"unusable password kept", "4", func(f *fields) { f.Password = `"!Xk3cbkNqQ1Zr7u0gW8yHf2eJp5tLm9aSdVo4iBzT"` },
			auth.User{ID: 4, IsActive: true, PasswordHash: "!Xk3cbkNqQ1Zr7u0gW8yHf2eJp5tLm9aSdVo4iBzT", DateJoined: date(2024, 1, 1, 0, 0, 0, 0)}},
		{"milliseconds", "5", func(f *fields) {
			f.DateJoined, f.LastLogin = `"2024-01-02T03:04:05.123Z"`, `"2024-01-02T03:04:05.123Z"`
		}, auth.User{ID: 5, IsActive: true, DateJoined: lastLogin, LastLogin: &lastLogin}},
		{"offset +02:00", "6", func(f *fields) {
			f.DateJoined, f.LastLogin = `"2024-01-01T02:00:00+02:00"`, `"2024-01-02T05:04:05.123+02:00"`
		}, auth.User{ID: 6, IsActive: true, DateJoined: date(2024, 1, 1, 0, 0, 0, 0), LastLogin: &lastLogin}},
		{"negative offset crossing midnight", "7", func(f *fields) { f.DateJoined = `"2023-12-31T19:00:00-05:00"` },
			auth.User{ID: 7, IsActive: true, DateJoined: date(2024, 1, 1, 0, 0, 0, 0)}},
		{"naive (USE_TZ = False) is UTC", "8", func(f *fields) {
			f.DateJoined, f.LastLogin = `"2024-01-01T00:00:00"`, `"2024-01-02T03:04:05.123"`
		}, auth.User{ID: 8, IsActive: true, DateJoined: date(2024, 1, 1, 0, 0, 0, 0), LastLogin: &lastLogin}},
		{"microseconds", "9", func(f *fields) { f.DateJoined = `"2024-01-01T00:00:00.000001Z"` },
			auth.User{ID: 9, IsActive: true, DateJoined: time.Date(2024, 1, 1, 0, 0, 0, 1000, time.UTC)}},
		{"last_login missing", "10", func(f *fields) { f.LastLogin = "" },
			auth.User{ID: 10, IsActive: true, DateJoined: date(2024, 1, 1, 0, 0, 0, 0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := defaultFields("User@Example.com")
			tt.modify(&f)
			users := parse(t, array(record(tt.pk, f)))
			if len(users) != 1 {
				t.Fatalf("Parse returned %d users; want 1", len(users))
			}
			want := tt.want
			want.Email = "User@Example.com" // kept as written
			if want.PasswordHash == "" {
				want.PasswordHash = pbkdf2Hash
			}
			sameUser(t, users[0], want)
		})
	}
}

func TestParseKeepsOrder(t *testing.T) {
	users := parse(t, array(
		record("3", defaultFields("c@example.com")),
		record("1", defaultFields("a@example.com")),
		record("2", defaultFields("b@example.com")),
	))
	var got []string
	for _, u := range users {
		got = append(got, fmt.Sprintf("%d:%s", u.ID, u.Email))
	}
	if want := "3:c@example.com 1:a@example.com 2:b@example.com"; strings.Join(got, " ") != want {
		t.Errorf("users = %v; want %s", got, want)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, input := range []string{"[]", " [ ] \n", "[]\n\n"} {
		users, err := userimport.Parse(strings.NewReader(input))
		if err != nil || len(users) != 0 {
			t.Errorf("Parse(%q) = %v, %v; want no users, no error", input, users, err)
		}
	}
}

func TestParseRejects(t *testing.T) {
	good := record("1", defaultFields("a@example.com"))
	with := func(modify func(*fields)) string {
		f := defaultFields("b@example.com")
		modify(&f)
		return record("2", f)
	}
	tests := []struct {
		name  string
		input string
		want  []string // substrings of the error
	}{
		{"empty input", "", []string{"not a dumpdata JSON array"}},
		{"object", `{"model": "accounts.user"}`, []string{"not a dumpdata JSON array"}},
		{"string", `"users"`, []string{"not a dumpdata JSON array"}},
		{"number", `1`, []string{"not a dumpdata JSON array"}},
		{"null", `null`, []string{"not a dumpdata JSON array"}},
		{"array of numbers", `[1, 2]`, []string{"not a dumpdata JSON array"}},
		{"truncated", array(good)[:40], []string{"not a dumpdata JSON array"}},
		{"trailing array", array(good) + "\n[]", []string{"after the JSON array"}},
		{"trailing text", array(good) + " x", []string{"after the JSON array"}},
		{"trailing bracket", array(good) + "]", []string{"after the JSON array"}},
		{"trailing brace", array(good) + "}", []string{"after the JSON array"}},
		{"missing pk", array(good, record("", defaultFields("b@example.com"))), []string{"record 2", `"pk"`}},
		{"null pk", array(good, record("null", defaultFields("b@example.com"))), []string{"record 2", `"pk"`}},
		{"zero pk", array(good, record("0", defaultFields("b@example.com"))), []string{"record 2", `"pk"`}},
		{"negative pk", array(good, record("-1", defaultFields("b@example.com"))), []string{"record 2", `"pk"`}},
		{"string pk", array(good, record(`"2"`, defaultFields("b@example.com"))), []string{"not a dumpdata JSON array"}},
		{"fractional pk", array(good, record("2.5", defaultFields("b@example.com"))), []string{"not a dumpdata JSON array"}},
		{"missing fields", array(good, `{"model": "accounts.user", "pk": 2}`), []string{"record 2", `"fields"`}},
		{"null fields", array(good, `{"model": "accounts.user", "pk": 2, "fields": null}`), []string{"record 2", `"fields"`}},
		{"missing email", array(good, with(func(f *fields) { f.Email = "" })), []string{"record 2", `"email"`}},
		{"null email", array(good, with(func(f *fields) { f.Email = "null" })), []string{"record 2", `"email"`}},
		{"empty email", array(good, with(func(f *fields) { f.Email = `""` })), []string{"record 2", `"email"`}},
		{"email without @", array(good, with(func(f *fields) { f.Email = `"b.example.com"` })), []string{"record 2", `"email"`}},
		{"email with spaces", array(good, with(func(f *fields) { f.Email = `" b@example.com"` })), []string{"record 2", `"email"`}},
		{"missing password", array(good, with(func(f *fields) { f.Password = "" })), []string{"record 2", `"password"`}},
		{"null password", array(good, with(func(f *fields) { f.Password = "null" })), []string{"record 2", `"password"`}},
		{"empty password", array(good, with(func(f *fields) { f.Password = `""` })), []string{"record 2", `"password"`}},
		{"missing date_joined", array(good, with(func(f *fields) { f.DateJoined = "" })), []string{"record 2", `"date_joined"`}},
		{"null date_joined", array(good, with(func(f *fields) { f.DateJoined = "null" })), []string{"record 2", `"date_joined"`}},
		{"date_joined not a date", array(good, with(func(f *fields) { f.DateJoined = `"yesterday"` })), []string{"record 2", `"date_joined"`}},
		{"date_joined month 13", array(good, with(func(f *fields) { f.DateJoined = `"2024-13-01T00:00:00Z"` })), []string{"record 2", `"date_joined"`}},
		{"date_joined date only", array(good, with(func(f *fields) { f.DateJoined = `"2024-01-01"` })), []string{"record 2", `"date_joined"`}},
		{"date_joined a number", array(good, with(func(f *fields) { f.DateJoined = `1704067200` })), []string{"not a dumpdata JSON array"}},
		{"last_login not a date", array(good, with(func(f *fields) { f.LastLogin = `"never"` })), []string{"record 2", `"last_login"`}},
		{"is_active not a bool", array(good, with(func(f *fields) { f.IsActive = `"yes"` })), []string{"not a dumpdata JSON array"}},
		{"duplicate pk", array(good, record("1", defaultFields("b@example.com"))), []string{"record 2", "duplicate", "1"}},
		{"duplicate email", array(good, record("2", defaultFields("a@example.com"))), []string{"record 2", "duplicate", "a@example.com"}},
		{"duplicate email differing in case", array(good, record("2", defaultFields("A@Example.COM"))), []string{"record 2", "duplicate", "A@Example.COM"}},
		{"bad third record", array(good, record("2", defaultFields("b@example.com")), record("0", defaultFields("c@example.com"))),
			[]string{"record 3", `"pk"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users, err := userimport.Parse(strings.NewReader(tt.input))
			if err == nil {
				t.Fatalf("Parse = %d users, nil; want an error\ninput: %s", len(users), tt.input)
			}
			if users != nil {
				t.Errorf("Parse returned %d users with its error; want none (never part of a file)", len(users))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
		})
	}
}

// TestParseDjangoFixture reads real `manage.py dumpdata accounts.user --indent 2`
// output for three users whose password is "x", made with:
//
//	PASSWORD=x /usr/bin/python3 internal/interop/testdata/django_hashes.py --fixture 3 --indent 2
func TestParseDjangoFixture(t *testing.T) {
	f, err := os.Open("testdata/dumpdata.json")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	users, err := userimport.Parse(f)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	lastLogin := date(2024, 1, 2, 3, 4, 5, 123)
	want := []struct {
		user   auth.User
		prefix string
	}{
		{auth.User{ID: 1, Email: "user1@example.com", IsActive: true, DateJoined: date(2024, 1, 1, 0, 0, 0, 0)}, "pbkdf2_sha256$260000$"},
		{auth.User{ID: 2, Email: "user2@example.com", IsActive: true, DateJoined: date(2024, 1, 2, 0, 0, 0, 0), LastLogin: &lastLogin}, "argon2$argon2id$v=19$"},
		{auth.User{ID: 3, Email: "user3@example.com", IsActive: true, DateJoined: date(2024, 1, 3, 0, 0, 0, 0)}, "bcrypt_sha256$$2b$12$"},
	}
	if len(users) != len(want) {
		t.Fatalf("Parse returned %d users; want %d", len(users), len(want))
	}
	h, err := password.New(password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		u := users[i]
		if !strings.HasPrefix(u.PasswordHash, w.prefix) {
			t.Errorf("user %d hash %q; want prefix %q", u.ID, u.PasswordHash, w.prefix)
		}
		w.user.PasswordHash = u.PasswordHash
		sameUser(t, u, w.user)
		// The imported hash is the one Django wrote: the password still verifies.
		t.Run(w.prefix[:6], func(t *testing.T) {
			t.Parallel()
			if ok, rehash, err := h.Verify(context.Background(), "x", u.PasswordHash); !ok || !rehash || err != nil {
				t.Errorf("Verify(x, %q) = ok %v, rehash %v; want true, true", u.PasswordHash, ok, rehash)
			}
		})
	}
}
