package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
)

// readBody checks the JSON media type, and buffers the body so that both the
// validator and the handler can read it, keeping only the properties the
// operation declares (declaredOnly). An empty body is treated as an empty
// object, as DRF does, so that the client learns which fields are required.
// It returns the error to answer when the request must stop here.
func readBody(r *http.Request, spec *openapi3.RequestBody) error {
	data, err := io.ReadAll(r.Body) // limited by limitBody
	if err != nil {
		if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
			return errTooLarge
		}
		return errUnreadable
	}
	if len(bytes.TrimSpace(data)) == 0 {
		data = []byte("{}")
		r.Header.Set("Content-Type", "application/json")
	} else if mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || spec.Content.Get(mediaType) == nil {
		return withDetail(errUnsupportedMediaType,
			fmt.Sprintf("Unsupported media type %q in request; use application/json.", r.Header.Get("Content-Type")))
	}
	data, ok := declaredOnly(data, spec)
	if !ok {
		return errParse
	}
	r.Body = io.NopCloser(bytes.NewReader(data))
	r.ContentLength = int64(len(data))
	return nil
}

// declaredOnly keeps, of a JSON object body, only the properties its schema
// declares, by their exact names; ok is false for malformed JSON. The
// validator matches keys exactly but encoding/json, which decodes the body for
// the handler, also matches them ignoring case: without this, {"email":
// <valid>, "EMAIL": <anything>} would be validated on one value and used with
// the other. Unknown properties are ignored, as DRF ignores them. Valid JSON
// that is not an object is left to the validator to describe.
func declaredOnly(data []byte, spec *openapi3.RequestBody) (out []byte, ok bool) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		// Unmarshal also refuses trailing data such as `{...} garbage`, which
		// the validator's decoder would stop before.
		return data, json.Valid(data)
	}
	media := spec.Content.Get("application/json")
	if fields == nil || media == nil || media.Schema == nil || media.Schema.Value == nil {
		return data, true
	}
	kept := make(map[string]json.RawMessage, len(fields))
	for name := range media.Schema.Value.Properties {
		if v, ok := fields[name]; ok {
			kept[name] = v
		}
	}
	out, err := json.Marshal(kept)
	if err != nil {
		return data, true
	}
	return out, true
}
