"""External identification hooks (D3, B2): a tenant's CRM reached over HTTP or SQL, bounded by a timeout."""
