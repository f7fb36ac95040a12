"""Chapter 4: its spec, experiments, claims and figures (import the submodules)."""
