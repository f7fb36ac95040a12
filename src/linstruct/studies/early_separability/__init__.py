"""Chapter 2: its spec, experiments, claims and figures (import the submodules)."""
