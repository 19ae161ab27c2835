"""API routers, one module per resource; all mounted under `/admin/api`."""
