// Renders /openapi.json with Swagger UI (served from its npm package by the server, no CDN).
/* global SwaggerUIBundle */
SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  // No call to the public online validator: everything stays on this server.
  validatorUrl: null,
  deepLinking: true,
  docExpansion: 'list',
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
