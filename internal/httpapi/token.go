package httpapi

import (
	"context"

	"github.com/ecommerce/auth-service/gen/oapi"
)

// ObtainToken logs a user in and starts a session.
func (h *Handler) ObtainToken(ctx context.Context, req oapi.ObtainTokenRequestObject) (oapi.ObtainTokenResponseObject, error) {
	cookie, err := h.cookies.chosen(ctx, req.Params.XTokenTransport)
	if err != nil {
		return nil, err
	}
	pair, err := h.auth.Login(ctx, req.Body.Email, req.Body.Password)
	if err != nil {
		return nil, err
	}
	body, setCookie, err := h.cookies.tokenResponse(pair, cookie)
	if err != nil {
		return nil, err
	}
	return oapi.ObtainToken200JSONResponse{Body: body, Headers: oapi.ObtainToken200ResponseHeaders{SetCookie: setCookie}}, nil
}

// RefreshToken rotates a refresh token, the body's or the cookie's, into a
// new pair of the same session.
func (h *Handler) RefreshToken(ctx context.Context, req oapi.RefreshTokenRequestObject) (oapi.RefreshTokenResponseObject, error) {
	p, err := h.cookies.refreshToken(ctx, req.Params.XTokenTransport, req.Body)
	if err != nil {
		return nil, err
	}
	pair, err := h.auth.Rotate(ctx, p.raw)
	if err != nil {
		return nil, h.cookies.failed(p, err)
	}
	body, setCookie, err := h.cookies.tokenResponse(pair, p.cookie)
	if err != nil {
		return nil, err
	}
	return oapi.RefreshToken200JSONResponse{Body: body, Headers: oapi.RefreshToken200ResponseHeaders{SetCookie: setCookie}}, nil
}

// VerifyToken answers {} for a valid, unrevoked token of either type.
func (h *Handler) VerifyToken(ctx context.Context, req oapi.VerifyTokenRequestObject) (oapi.VerifyTokenResponseObject, error) {
	if err := h.auth.Verify(ctx, req.Body.Token); err != nil {
		return nil, err
	}
	return oapi.VerifyToken200JSONResponse{}, nil
}
