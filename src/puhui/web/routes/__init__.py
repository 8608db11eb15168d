"""Routes of the open API, one module per resource."""
