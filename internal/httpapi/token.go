package httpapi

import (
	"context"

	"github.com/ecommerce/auth-service/gen/oapi"
)

// ObtainToken logs a user in and starts a session.
func (h *Handler) ObtainToken(ctx context.Context, req oapi.ObtainTokenRequestObject) (oapi.ObtainTokenResponseObject, error) {
	pair, err := h.auth.Login(ctx, req.Body.Email, req.Body.Password)
	if err != nil {
		return nil, err
	}
	return oapi.ObtainToken200JSONResponse{Access: pair.Access, Refresh: pair.Refresh}, nil
}

// RefreshToken rotates a refresh token into a new pair of the same session.
func (h *Handler) RefreshToken(ctx context.Context, req oapi.RefreshTokenRequestObject) (oapi.RefreshTokenResponseObject, error) {
	pair, err := h.auth.Rotate(ctx, req.Body.Refresh)
	if err != nil {
		return nil, err
	}
	return oapi.RefreshToken200JSONResponse{Access: pair.Access, Refresh: pair.Refresh}, nil
}

// VerifyToken answers {} for a valid, unrevoked token of either type.
func (h *Handler) VerifyToken(ctx context.Context, req oapi.VerifyTokenRequestObject) (oapi.VerifyTokenResponseObject, error) {
	if err := h.auth.Verify(ctx, req.Body.Token); err != nil {
		return nil, err
	}
	return oapi.VerifyToken200JSONResponse{}, nil
}
