package token_test

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/token"
)

// Access tokens carry roles and is_staff only when there is something to
// say, so that tokens of users without roles look exactly as before.
func TestAuthzClaims(t *testing.T) {
	k := hsKeys(t)
	payload := func(issued token.Issued) map[string]any {
		t.Helper()
		raw, err := base64.RawURLEncoding.DecodeString(strings.Split(issued.Token, ".")[1])
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	plain, err := k.Mint(token.Access, 7, "s", now, time.Minute, token.Authz{})
	if err != nil {
		t.Fatal(err)
	}
	if m := payload(plain); m["roles"] != nil || m["is_staff"] != nil || m["sgen"] != nil {
		t.Errorf("a token without roles carries %v, %v, %v", m["roles"], m["is_staff"], m["sgen"])
	}
	// A session's later token generation (after a password change) is
	// carried, and read back.
	later, err := k.Mint(token.Access, 7, "s", now, time.Minute, token.Authz{Generation: 2})
	if err != nil {
		t.Fatal(err)
	}
	if m := payload(later); m["sgen"] != 2.0 {
		t.Errorf("sgen = %v, want 2", m["sgen"])
	}
	if claims, err := k.Parse(later.Token, now, token.Access); err != nil || claims.Generation != 2 {
		t.Errorf("Parse = %+v, %v; want generation 2", claims, err)
	}
	rich, err := k.Mint(token.Access, 7, "s", now, time.Minute, token.Authz{Roles: []string{"catalog:write", "support"}, IsStaff: true})
	if err != nil {
		t.Fatal(err)
	}
	m := payload(rich)
	if roles, _ := m["roles"].([]any); len(roles) != 2 || roles[0] != "catalog:write" || m["is_staff"] != true {
		t.Errorf("claims %v, want roles [catalog:write support] and is_staff true", m)
	}
	claims, err := k.Parse(rich.Token, now, token.Access)
	if err != nil || !slices.Equal(claims.Roles, []string{"catalog:write", "support"}) || !claims.IsStaff {
		t.Errorf("Parse = %+v, %v", claims, err)
	}
}
