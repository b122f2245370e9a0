"""Events for integrators: what acd tells CRMs and other systems (pure)."""
