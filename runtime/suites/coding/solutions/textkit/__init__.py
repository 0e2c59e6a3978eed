"""textkit: small, dependency-free text utilities."""
