"""Chapter 0: ``spec`` (parameters), ``experiments`` (training and probing), ``claims`` (the verdict's
criterion) and ``figures`` (import the submodules)."""
