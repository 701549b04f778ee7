"""The HTTP floor: connections (framing, read deadlines), who the client is, budgets, request
bodies, content negotiation and the responses every route writes."""
