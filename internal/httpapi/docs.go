package httpapi

import (
	"bytes"
	"context"
	"embed"
	"fmt"

	"github.com/ecommerce/auth-service/gen/oapi"
)

// docsFiles is the API reference page: Swagger UI, vendored unchanged from the
// npm package swagger-ui-dist by clients/ts/scripts/vendor-swagger-ui.mjs
// (version and checksums in docs/swagger-ui/PROVENANCE.txt), and the page and
// initializer that start it.
//
//go:embed docs/index.html docs/swagger-initializer.js docs/swagger-ui
var docsFiles embed.FS

// docsCSP lets the page load scripts, styles and images from this origin only
// and send requests ("Try it out") only to it. Swagger UI's stylesheet draws
// its icons from data: URLs.
const docsCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Cache lifetimes of the page's files. Swagger UI's change only with the
// pinned version, so a day is safe; the initializer is ours and tiny, so
// browsers revalidate it.
const (
	docsVendorMaxAge = "public, max-age=86400"
	docsOwnMaxAge    = "no-cache"
)

// docsAsset is a file the page loads, by the name it is served under.
type docsAsset struct {
	path         string // in docsFiles
	contentType  string
	cacheControl string
}

// docsAssets are the only names GET /auth/docs/{file} serves; the request's
// name is a key here, never a path.
var docsAssets = map[string]docsAsset{
	"swagger-initializer.js":           {"docs/swagger-initializer.js", "text/javascript", docsOwnMaxAge},
	"swagger-ui-bundle.js":             {"docs/swagger-ui/swagger-ui-bundle.js", "text/javascript", docsVendorMaxAge},
	"swagger-ui.css":                   {"docs/swagger-ui/swagger-ui.css", "text/css", docsVendorMaxAge},
	"favicon-32x32.png":                {"docs/swagger-ui/favicon-32x32.png", "image/png", docsVendorMaxAge},
	"favicon-16x16.png":                {"docs/swagger-ui/favicon-16x16.png", "image/png", docsVendorMaxAge},
	"LICENSE":                          {"docs/swagger-ui/LICENSE", "text/plain", docsVendorMaxAge},
	"NOTICE":                           {"docs/swagger-ui/NOTICE", "text/plain", docsVendorMaxAge},
	"swagger-ui-bundle.js.LICENSE.txt": {"docs/swagger-ui/swagger-ui-bundle.js.LICENSE.txt", "text/plain", docsVendorMaxAge},
}

// GetDocs serves the HTML API reference, which renders /auth/openapi.json.
func (h *Handler) GetDocs(ctx context.Context, _ oapi.GetDocsRequestObject) (oapi.GetDocsResponseObject, error) {
	page, err := docsFiles.ReadFile("docs/index.html")
	if err != nil {
		return nil, fmt.Errorf("docs page: %w", err)
	}
	return oapi.GetDocs200TexthtmlResponse{
		Body: bytes.NewReader(page), ContentLength: int64(len(page)),
		Headers: oapi.GetDocs200ResponseHeaders{ContentSecurityPolicy: docsCSP},
	}, nil
}

// GetDocsAsset serves one of the page's files with its media type, and a 404
// for any other name.
func (h *Handler) GetDocsAsset(ctx context.Context, req oapi.GetDocsAssetRequestObject) (oapi.GetDocsAssetResponseObject, error) {
	a, ok := docsAssets[req.File]
	if !ok {
		return nil, errNotFound
	}
	data, err := docsFiles.ReadFile(a.path)
	if err != nil {
		return nil, fmt.Errorf("docs asset %s: %w", req.File, err)
	}
	body, n := bytes.NewReader(data), int64(len(data))
	headers := oapi.GetDocsAsset200ResponseHeaders{CacheControl: a.cacheControl}
	switch a.contentType {
	case "text/javascript":
		return oapi.GetDocsAsset200TextjavascriptCharsetUtf8Response{Body: body, ContentLength: n, Headers: headers}, nil
	case "text/css":
		return oapi.GetDocsAsset200TextcssCharsetUtf8Response{Body: body, ContentLength: n, Headers: headers}, nil
	case "image/png":
		return oapi.GetDocsAsset200ImagepngResponse{Body: body, ContentLength: n, Headers: headers}, nil
	case "text/plain":
		return oapi.GetDocsAsset200TextplainCharsetUtf8Response{Body: body, ContentLength: n, Headers: headers}, nil
	}
	return nil, fmt.Errorf("docs asset %s: no response for media type %s", req.File, a.contentType)
}
