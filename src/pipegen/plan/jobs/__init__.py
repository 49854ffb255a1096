"""The job builders: one module per kind of job the descriptor asks for, each a function from the
descriptor to jobs (or None when the descriptor does not ask for it)."""
