"""RouteNotFoundFunction: the HTTP API's $default route, so unknown routes get the contract's
``404 {"message": "Route not found"}`` instead of API Gateway's own body, a CORS preflight that
API Gateway sends here (any OPTIONS request: no route takes that method) gets its 204, and a
route asked for with one trailing slash is answered by the function that owns it
(``forwarding``)."""

from openbin.api.forwarding import forward
from openbin.api.http import build_resolver, entry_point

app = build_resolver(answer_preflights=True)

lambda_handler = entry_point(app, before=forward)
