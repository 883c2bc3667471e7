package auth_test

import (
	"strings"
	"testing"

	"github.com/ecommerce/auth-service/api"
	"github.com/ecommerce/auth-service/internal/auth"
)

// The request validator checks emails with the OpenAPI document's pattern;
// the service with auth.ValidEmail. They must be one rule.
func TestSpecUsesTheEmailRule(t *testing.T) {
	doc, err := api.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, schema := range []string{"LoginRequest", "RegisterRequest", "PasswordResetRequest"} {
		email := doc.Components.Schemas[schema].Value.Properties["email"].Value
		if email.Pattern != auth.EmailPattern {
			t.Errorf("%s: spec pattern %q, auth.EmailPattern %q", schema, email.Pattern, auth.EmailPattern)
		}
		if email.MaxLength == nil || *email.MaxLength != auth.MaxEmailLength || email.MinLength != 1 {
			t.Errorf("%s: spec length %d..%v, want 1..%d", schema, email.MinLength, email.MaxLength, auth.MaxEmailLength)
		}
	}
	if role := doc.Components.Schemas["Role"].Value; role.Pattern != auth.RolePattern {
		t.Errorf("spec Role pattern %q, auth.RolePattern %q", role.Pattern, auth.RolePattern)
	}
}

func TestValidEmail(t *testing.T) {
	valid := []string{"a@b", "user@example.com", " padded@example.com  ", "élodie@exämple.com", "a+tag@b.c",
		strings.Repeat("a", 250) + "@b.c"}
	invalid := []string{"", "no-at-sign", "a b@example.com", "two@@example.com", "a@b@c", "@example.com", "user@",
		"   ", "a@b c", strings.Repeat("a", 251) + "@b.c",
		// Control characters, anywhere: NUL made PostgreSQL fail the query.
		"a\x00b@example.com", "user@example.com\x00", "\tpadded@example.com", "user@example.com\n", "a\x1fb@c", "a\x7fb@c"}
	for _, s := range valid {
		if !auth.ValidEmail(s) {
			t.Errorf("ValidEmail(%q) = false", s)
		}
	}
	for _, s := range invalid {
		if auth.ValidEmail(s) {
			t.Errorf("ValidEmail(%q) = true", s)
		}
	}
}
