// The API docs page: Swagger UI over this server's own OpenAPI document, with no other host involved.
"use strict";
window.addEventListener("load", () => {
  window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
