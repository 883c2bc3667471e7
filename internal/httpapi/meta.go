package httpapi

import (
	"context"
	_ "embed"
	"time"

	"github.com/ecommerce/auth-service/gen/oapi"
)

// defaultJWKSMaxAge is how long verifiers may cache the key set unless
// Options say otherwise. A rolled key is published beside the old one for
// longer than this before it signs.
const defaultJWKSMaxAge = 5 * time.Minute

// GetJWKS publishes the public verification keys; none in HS256 mode.
func (h *Handler) GetJWKS(ctx context.Context, _ oapi.GetJWKSRequestObject) (oapi.GetJWKSResponseObject, error) {
	published := h.auth.PublicKeys()
	keys := make([]oapi.JWK, 0, len(published))
	for _, k := range published {
		keys = append(keys, oapi.JWK{
			Kty: oapi.JWKKty(k.Kty), Kid: k.Kid, Use: oapi.JWKUse(k.Use), Alg: oapi.JWKAlg(k.Alg),
			Crv: optional(k.Crv), X: optional(k.X), Y: optional(k.Y), N: optional(k.N), E: optional(k.E),
		})
	}
	maxAge := h.jwksCacheControl
	return oapi.GetJWKS200JSONResponse{Body: oapi.JWKS{Keys: keys}, Headers: oapi.GetJWKS200ResponseHeaders{CacheControl: &maxAge}}, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// GetOpenAPISpec serves api/openapi.yaml as JSON.
func (h *Handler) GetOpenAPISpec(ctx context.Context, _ oapi.GetOpenAPISpecRequestObject) (oapi.GetOpenAPISpecResponseObject, error) {
	return oapi.GetOpenAPISpec200JSONResponse(h.spec), nil
}
