// Package api holds the OpenAPI document, the service's contract, embedded so
// that the binary validates requests against it and serves it exactly as
// written: the one copy of the contract in the binary.
package api

import (
	"context"
	_ "embed"

	"github.com/getkin/kin-openapi/openapi3"
)

// OpenAPI is api/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Load parses the document. Each call returns a new copy, which the caller
// may change (the validator clears its servers, for one).
func Load() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPI)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	return doc, nil
}
