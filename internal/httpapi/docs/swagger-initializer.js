// Starts Swagger UI on this service's own OpenAPI document. "Try it out" sends requests to the
// origin the page came from (the document's server is "/"). After a successful login or refresh
// in the page, the new access token is filled in as the bearer token, so that operations such as
// GET /auth/me/ can be tried at once. The token lives in this page only (persistAuthorization is
// off): a reload forgets it.
(function () {
  "use strict";

  // Operations whose 200 body is a TokenPair.
  var tokenPaths = ["/auth/token/", "/auth/token/refresh/"];

  function authorizeFrom(res) {
    var path;
    try {
      path = new URL(res.url, window.location.href).pathname;
    } catch (e) {
      return;
    }
    if (res.ok && tokenPaths.indexOf(path) >= 0 && res.body && typeof res.body.access === "string") {
      window.ui.preauthorizeApiKey("bearerAuth", res.body.access);
    }
  }

  window.ui = SwaggerUIBundle({
    // Relative, so that the page works under whatever origin serves it.
    url: "../openapi.json",
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    displayOperationId: true,
    displayRequestDuration: true,
    // No calls to the public validator service: the page must work offline.
    validatorUrl: null,
    persistAuthorization: false,
    responseInterceptor: function (res) {
      authorizeFrom(res);
      return res;
    }
  });
})();
