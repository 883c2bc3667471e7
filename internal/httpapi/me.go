package httpapi

import (
	"context"

	"github.com/ecommerce/auth-service/gen/oapi"
	"github.com/ecommerce/auth-service/internal/auth"
)

// GetMe returns the bearer's user.
func (h *Handler) GetMe(ctx context.Context, _ oapi.GetMeRequestObject) (oapi.GetMeResponseObject, error) {
	p, err := h.principal(ctx)
	if err != nil {
		return nil, err
	}
	roles := append([]string{}, p.Roles...) // [] rather than null
	return oapi.GetMe200JSONResponse{Id: p.User.ID, Email: p.User.Email, Roles: &roles}, nil
}

// principal authenticates the bearer token parseBearer put in ctx.
func (h *Handler) principal(ctx context.Context) (auth.Principal, error) {
	b := bearerFrom(ctx)
	if !b.present {
		return auth.Principal{}, errNoCredentials
	}
	return h.auth.Authenticate(ctx, b.token)
}
