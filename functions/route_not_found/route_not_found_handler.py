"""RouteNotFoundFunction: the HTTP API's $default route, so unknown routes get the contract's
``404 {"message": "Route not found"}`` instead of API Gateway's own body, and a CORS preflight
that API Gateway sends here (any OPTIONS request: no route takes that method) gets its 204."""

from openbin.api.http import build_resolver, entry_point

app = build_resolver(answer_preflights=True)

lambda_handler = entry_point(app)
