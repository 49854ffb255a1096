"""One module per command; `pipegen.cli` imports them lazily."""
