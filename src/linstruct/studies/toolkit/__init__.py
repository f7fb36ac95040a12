"""Chapter 0: its spec, experiments, claims and figures (import the submodules)."""
