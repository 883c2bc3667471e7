package httpapi

import (
	"context"

	"github.com/ecommerce/auth-service/gen/oapi"
)

// Logout revokes the session of a refresh token, the body's or the
// cookie's; in the cookie transport it also clears the cookie.
func (h *Handler) Logout(ctx context.Context, req oapi.LogoutRequestObject) (oapi.LogoutResponseObject, error) {
	// A LogoutRequest is a RefreshRequest by another name: {"refresh"}.
	p, err := h.cookies.refreshToken(ctx, req.Params.XTokenTransport, (*oapi.RefreshRequest)(req.Body))
	if err != nil {
		return nil, err
	}
	if err := h.auth.Logout(ctx, p.raw); err != nil {
		return nil, h.cookies.failed(p, err)
	}
	var resp oapi.Logout204Response
	if p.cookie {
		resp.Headers.SetCookie = h.cookies.cleared()
	}
	return resp, nil
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
