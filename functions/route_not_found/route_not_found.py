"""RouteNotFoundFunction: the HTTP API's $default route, so unknown routes get the contract's
``404 {"message": "Route not found"}`` instead of API Gateway's own body."""

from openbin.api.http import build_resolver, lambda_handler

app = build_resolver()

handler = lambda_handler(app)
