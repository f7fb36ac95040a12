"""Networks and how they are trained: models, seed ensembles, the training loop, linear probes."""
