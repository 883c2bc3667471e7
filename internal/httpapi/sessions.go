package httpapi

import (
	"context"

	"github.com/ecommerce/auth-service/gen/oapi"
	"github.com/ecommerce/auth-service/internal/auth"
)

// ListSessions lists the bearer's user's live sessions, marking the
// bearer's own.
func (h *Handler) ListSessions(ctx context.Context, _ oapi.ListSessionsRequestObject) (oapi.ListSessionsResponseObject, error) {
	p, err := h.principal(ctx)
	if err != nil {
		return nil, err
	}
	sessions, err := h.auth.ListSessions(ctx, p)
	if err != nil {
		return nil, err
	}
	out := make([]oapi.SessionInfo, len(sessions))
	for i, s := range sessions {
		out[i] = sessionInfo(s, p.SessionID)
	}
	return oapi.ListSessions200JSONResponse{Sessions: out}, nil
}

// sessionInfo is a session as the API shows it to its user.
func sessionInfo(s auth.Session, current string) oapi.SessionInfo {
	info := oapi.SessionInfo{
		Id: s.ID, CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt, Current: s.ID == current,
		CreatedAddress: s.CreatedBy.Address, CreatedUserAgent: s.CreatedBy.UserAgent,
	}
	if s.RefreshedAt != nil {
		at, by := *s.RefreshedAt, s.RefreshedBy
		info.LastRefreshedAt, info.LastAddress, info.LastUserAgent = &at, &by.Address, &by.UserAgent
	}
	return info
}

// EndSession revokes one of the bearer's user's sessions.
func (h *Handler) EndSession(ctx context.Context, req oapi.EndSessionRequestObject) (oapi.EndSessionResponseObject, error) {
	p, err := h.principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := h.auth.EndSession(ctx, p, req.Id); err != nil {
		return nil, err
	}
	return oapi.EndSession204Response{}, nil
}
