// Package api embeds the OpenAPI document, the service's contract, so that the
// binary can serve it exactly as written.
package api

import _ "embed"

// OpenAPI is api/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
