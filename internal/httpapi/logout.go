package httpapi

import (
	"context"

	"github.com/ecommerce/auth-service/gen/oapi"
)

// Logout revokes the session of a refresh token.
func (h *Handler) Logout(ctx context.Context, req oapi.LogoutRequestObject) (oapi.LogoutResponseObject, error) {
	if err := h.auth.Logout(ctx, req.Body.Refresh); err != nil {
		return nil, err
	}
	return oapi.Logout204Response{}, nil
}

// LogoutAll revokes every session of the bearer's user.
func (h *Handler) LogoutAll(ctx context.Context, _ oapi.LogoutAllRequestObject) (oapi.LogoutAllResponseObject, error) {
	p, err := h.principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := h.auth.LogoutAll(ctx, p); err != nil {
		return nil, err
	}
	return oapi.LogoutAll204Response{}, nil
}
