package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// readBody checks the JSON media type, and buffers the body so that both the
// validator and the handler can read it, keeping only the properties the
// operation declares (declaredOnly). An empty body is treated as an empty
// object, as DRF does, so that the client learns which fields are required.
// It returns the error to answer when the request must stop here, and the
// declared fields that hold control characters (withControls), which the
// validator reports with the schema's findings.
func readBody(r *http.Request, spec *openapi3.RequestBody) (fieldErrors, error) {
	data, err := io.ReadAll(r.Body) // limited by limitBody
	if err != nil {
		if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
			return nil, errTooLarge
		}
		return nil, errUnreadable
	}
	if len(bytes.TrimSpace(data)) == 0 {
		data = []byte("{}")
		r.Header.Set("Content-Type", "application/json")
	} else if mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || spec.Content.Get(mediaType) == nil {
		return nil, withDetail(errUnsupportedMediaType,
			fmt.Sprintf("Unsupported media type %q in request; use application/json.", r.Header.Get("Content-Type")))
	}
	data, controls, ok := declaredOnly(data, spec)
	if !ok {
		return nil, errParse
	}
	r.Body = io.NopCloser(bytes.NewReader(data))
	r.ContentLength = int64(len(data))
	return controls, nil
}

// declaredOnly keeps, of a JSON object body, only the properties its schema
// declares, by their exact names; ok is false for malformed JSON. The
// validator matches keys exactly but encoding/json, which decodes the body for
// the handler, also matches them ignoring case: without this, {"email":
// <valid>, "EMAIL": <anything>} would be validated on one value and used with
// the other. Unknown properties are ignored, as DRF ignores them. Valid JSON
// that is not an object is left to the validator to describe. controls are
// the kept fields with control characters in their strings (withControls).
func declaredOnly(data []byte, spec *openapi3.RequestBody) (out []byte, controls fieldErrors, ok bool) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		// Unmarshal also refuses trailing data such as `{...} garbage`, which
		// the validator's decoder would stop before.
		return data, nil, json.Valid(data)
	}
	media := spec.Content.Get("application/json")
	if fields == nil || media == nil || media.Schema == nil || media.Schema.Value == nil {
		return data, nil, true
	}
	kept := make(map[string]json.RawMessage, len(fields))
	for name := range media.Schema.Value.Properties {
		if v, ok := fields[name]; ok {
			kept[name] = v
			if msg := withControls(v); msg != "" {
				if controls == nil {
					controls = fieldErrors{}
				}
				controls[name] = []string{msg}
			}
		}
	}
	out, err := json.Marshal(kept)
	if err != nil {
		return data, controls, true
	}
	return out, controls, true
}

// withControls returns the message for a JSON value holding a string, at
// any depth, with a control character (C0 or DEL), or "". No string the
// service takes may hold one: they have no place in an email, a password or
// a token, and some (NUL) make PostgreSQL fail the query. DRF's own words
// for NUL.
func withControls(raw json.RawMessage) string {
	// Valid JSON carries C0 characters only as \u escapes, and DEL as is:
	// without either there is nothing to look for.
	if bytes.IndexByte(raw, '\\') < 0 && bytes.IndexByte(raw, 0x7f) < 0 {
		return ""
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	msg := ""
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			if m := controlMessage(v); m != "" && msg != nulMessage {
				msg = m // NUL, anywhere, is the message
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for k, e := range v {
				walk(k)
				walk(e)
			}
		}
	}
	walk(v)
	return msg
}

// The messages of controlMessage.
const (
	nulMessage          = "Null characters are not allowed."
	otherControlMessage = "Control characters are not allowed."
)

// controlMessage is the message for a string with a control character (C0
// or DEL), NUL first in DRF's own words, or "" for one without.
func controlMessage(s string) string {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return nulMessage
	case strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
		return otherControlMessage
	}
	return ""
}
