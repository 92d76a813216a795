"""HTTP only: one router per resource; parse, call one service, shape the response."""
