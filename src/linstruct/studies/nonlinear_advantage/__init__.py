"""Chapter 3: its spec, experiments, claims and figures (import the submodules)."""
