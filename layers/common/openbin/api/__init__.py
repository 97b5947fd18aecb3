"""The HTTP edge: API Gateway (payload 2.0) events in, JSON responses out.

Before any route module imports Powertools' event handler, its "import everything" packages are
made lazy (``openbin.lazy``): a function loads the one resolver and event class it uses."""

from openbin import lazy

lazy.install()
