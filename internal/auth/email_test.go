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
	email := doc.Components.Schemas["LoginRequest"].Value.Properties["email"].Value
	if email.Pattern != auth.EmailPattern {
		t.Errorf("spec pattern %q, auth.EmailPattern %q", email.Pattern, auth.EmailPattern)
	}
	if email.MaxLength == nil || *email.MaxLength != auth.MaxEmailLength || email.MinLength != 1 {
		t.Errorf("spec length %d..%v, want 1..%d", email.MinLength, email.MaxLength, auth.MaxEmailLength)
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
