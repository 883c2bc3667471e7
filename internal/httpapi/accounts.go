package httpapi

import (
	"context"
	"errors"

	"github.com/ecommerce/auth-service/gen/oapi"
	"github.com/ecommerce/auth-service/internal/auth"
)

// The answers of the requests that must not reveal whether an address has an
// account: the same whatever the address.
const (
	signupAccepted = "Check your inbox: we have sent a message to this address."
	resetAccepted  = "If this address has an account, we have sent it a message with a link to reset the password."
)

// Register signs up a new account.
func (h *Handler) Register(ctx context.Context, req oapi.RegisterRequestObject) (oapi.RegisterResponseObject, error) {
	if err := h.auth.Register(ctx, req.Body.Email, req.Body.Password); err != nil {
		return nil, onField("password", err)
	}
	return oapi.Register202JSONResponse{Detail: signupAccepted}, nil
}

// VerifyEmail activates the account of a verification token.
func (h *Handler) VerifyEmail(ctx context.Context, req oapi.VerifyEmailRequestObject) (oapi.VerifyEmailResponseObject, error) {
	if err := h.auth.VerifyEmail(ctx, req.Body.Token); err != nil {
		return nil, err
	}
	return oapi.VerifyEmail204Response{}, nil
}

// ChangePassword changes the bearer's password and returns the session's new pair.
func (h *Handler) ChangePassword(ctx context.Context, req oapi.ChangePasswordRequestObject) (oapi.ChangePasswordResponseObject, error) {
	p, err := h.principal(ctx)
	if err != nil {
		return nil, err
	}
	pair, err := h.auth.ChangePassword(ctx, p, req.Body.CurrentPassword, req.Body.NewPassword)
	if errors.Is(err, auth.ErrWrongPassword) {
		return nil, onField("current_password", err)
	} else if err != nil {
		return nil, onField("new_password", err)
	}
	return oapi.ChangePassword200JSONResponse{Access: pair.Access, Refresh: pair.Refresh}, nil
}

// RequestPasswordReset has a reset link mailed, whatever the address.
func (h *Handler) RequestPasswordReset(ctx context.Context, req oapi.RequestPasswordResetRequestObject) (oapi.RequestPasswordResetResponseObject, error) {
	if err := h.auth.RequestPasswordReset(ctx, req.Body.Email); err != nil {
		return nil, err
	}
	return oapi.RequestPasswordReset202JSONResponse{Detail: resetAccepted}, nil
}

// ConfirmPasswordReset sets a new password with a reset token.
func (h *Handler) ConfirmPasswordReset(ctx context.Context, req oapi.ConfirmPasswordResetRequestObject) (oapi.ConfirmPasswordResetResponseObject, error) {
	if err := h.auth.ResetPassword(ctx, req.Body.Token, req.Body.NewPassword); err != nil {
		return nil, onField("new_password", err)
	}
	return oapi.ConfirmPasswordReset204Response{}, nil
}
