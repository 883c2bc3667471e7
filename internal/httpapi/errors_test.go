package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ecommerce/auth-service/api"
	"github.com/ecommerce/auth-service/internal/auth"
)

// Every code the service can answer is documented in the Error schema.
func TestEveryErrorCodeIsDocumented(t *testing.T) {
	doc, err := api.Load()
	if err != nil {
		t.Fatal(err)
	}
	documented := doc.Components.Schemas["Error"].Value.Properties["code"].Value.Description
	for _, row := range errorTable {
		if !strings.Contains(documented, "`"+row.code+"`") {
			t.Errorf("code %q (status %d) is not in the Error schema's description", row.code, row.status)
		}
	}
}

// writeError answers by the table, wrapped errors included, with the
// specifics an error carries, and anything else as a generic 500.
func TestWriteError(t *testing.T) {
	cases := []struct {
		err       error
		status    int
		code      string
		detail    string
		challenge bool
	}{
		{fmt.Errorf("%w: expired", auth.ErrTokenInvalid), 401, "token_not_valid", "Token is invalid or expired", true},
		{auth.ErrTokenReused, 401, "token_reused", "", true},
		{withDetail(errMoved, "This resource is at /x/"), 308, "moved", "This resource is at /x/", false},
		{fieldErrors{"email": {"This field is required."}}, 400, "invalid", "Invalid input.", false},
		{errors.New("database on fire"), 500, "internal_error", "A server error occurred.", false},
	}
	for _, c := range cases {
		w := httptest.NewRecorder()
		writeError(w, c.err)
		body := w.Body.String()
		if w.Code != c.status || !strings.Contains(body, `"code":"`+c.code+`"`) || (c.detail != "" && !strings.Contains(body, c.detail)) {
			t.Errorf("%v: %d %s, want %d %s %q", c.err, w.Code, body, c.status, c.code, c.detail)
		}
		if got := w.Header().Get("WWW-Authenticate") != ""; got != c.challenge {
			t.Errorf("%v: WWW-Authenticate present %t, want %t", c.err, got, c.challenge)
		}
		if strings.Contains(body, "fire") {
			t.Errorf("an unexpected error's text reached the client: %s", body)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" || w.Code == http.StatusOK {
			t.Errorf("%v: Content-Type %q", c.err, ct)
		}
	}
	w := httptest.NewRecorder()
	writeError(w, fieldErrors{"email": {"This field is required."}})
	if !strings.Contains(w.Body.String(), `"fields":{"email":["This field is required."]}`) {
		t.Errorf("field errors not in the body: %s", w.Body)
	}
}
