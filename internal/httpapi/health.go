package httpapi

import (
	"context"

	"github.com/ecommerce/auth-service/gen/oapi"
)

// GetHealth reports that the process serves requests. It does not touch the
// database: it is a liveness check, and a database outage must not make the
// orchestrator restart healthy replicas.
func (h *Handler) GetHealth(ctx context.Context, _ oapi.GetHealthRequestObject) (oapi.GetHealthResponseObject, error) {
	return oapi.GetHealth200JSONResponse{Status: oapi.AuthServiceUp}, nil
}
