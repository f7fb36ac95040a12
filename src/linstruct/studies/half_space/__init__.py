"""Chapter 1: its spec, experiments, claims and figures (import the submodules)."""
