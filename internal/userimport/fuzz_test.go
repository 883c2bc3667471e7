package userimport_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/userimport"
)

// FuzzParse hands arbitrary files to the dumpdata reader: it never panics,
// and whatever it accepts is a set of users the import may write: positive
// unique ids, valid trimmed emails unique by key, non-empty hashes, in UTC.
func FuzzParse(f *testing.F) {
	fixture, err := os.ReadFile("testdata/dumpdata.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(fixture)
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"model":"accounts.user","pk":1,"fields":{"email":"a@b","password":"x","date_joined":"2024-01-01T00:00:00"}}]`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		users, err := userimport.Parse(bytes.NewReader(data))
		if err != nil {
			if users != nil {
				t.Fatalf("Parse failed (%v) but returned %d users", err, len(users))
			}
			return
		}
		ids, keys := map[int64]bool{}, map[string]bool{}
		for _, u := range users {
			key := auth.EmailKey(u.Email)
			switch {
			case u.ID <= 0 || ids[u.ID]:
				t.Fatalf("accepted id %d (duplicate or not positive)", u.ID)
			case !auth.ValidEmail(u.Email) || auth.TrimEmail(u.Email) != u.Email || keys[key]:
				t.Fatalf("accepted email %q", u.Email)
			case u.PasswordHash == "":
				t.Fatal("accepted an empty password hash")
			case u.DateJoined.Location().String() != "UTC" || (u.LastLogin != nil && u.LastLogin.Location().String() != "UTC"):
				t.Fatalf("times not in UTC: %v %v", u.DateJoined, u.LastLogin)
			}
			ids[u.ID], keys[key] = true, true
		}
	})
}
