package httpapi

import (
	"context"

	"github.com/ecommerce/auth-service/gen/oapi"
	"github.com/ecommerce/auth-service/internal/store"
)

// GetMe returns the bearer's user.
func (h *Handler) GetMe(ctx context.Context, _ oapi.GetMeRequestObject) (oapi.GetMeResponseObject, error) {
	user, err := h.authenticate(ctx)
	if err != nil {
		if resp, ok := unauthorized(err); ok {
			return oapi.GetMe401JSONResponse{UnauthorizedJSONResponse: resp}, nil
		}
		return nil, err
	}
	return oapi.GetMe200JSONResponse{Id: user.ID, Email: user.Email}, nil
}

// authenticate checks the bearer token parseBearer put in ctx.
func (h *Handler) authenticate(ctx context.Context) (store.User, error) {
	b := bearerFrom(ctx)
	if !b.present {
		return store.User{}, errNoCredentials
	}
	user, _, err := h.auth.Authenticate(ctx, b.token)
	return user, err
}
