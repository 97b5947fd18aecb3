"""The HTTP edge: API Gateway (payload 2.0) events in, JSON responses out."""
