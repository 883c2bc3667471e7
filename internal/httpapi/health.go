package httpapi

import (
	"context"
	"time"

	"github.com/ecommerce/auth-service/gen/oapi"
)

// GetHealth reports that the process serves requests. It does not touch the
// database: it is a liveness check, and a database outage must not make the
// orchestrator restart healthy replicas.
func (h *Handler) GetHealth(ctx context.Context, _ oapi.GetHealthRequestObject) (oapi.GetHealthResponseObject, error) {
	return oapi.GetHealth200JSONResponse{Status: oapi.AuthServiceUp}, nil
}

// readyTimeout is how long readiness waits for the database.
const readyTimeout = time.Second

// GetReady reports whether requests can be served: the database answers
// within readyTimeout and the process is not draining for shutdown.
func (h *Handler) GetReady(ctx context.Context, _ oapi.GetReadyRequestObject) (oapi.GetReadyResponseObject, error) {
	if h.drain.Draining() {
		return nil, withDetail(errNotReady, "The service is shutting down.")
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if err := h.auth.Ready(ctx); err != nil {
		h.log.WarnContext(ctx, "not ready: the database does not answer", "error", err)
		return nil, withDetail(errNotReady, "The database does not answer.")
	}
	return oapi.GetReady200JSONResponse{Status: oapi.ReadyStatusReady}, nil
}
