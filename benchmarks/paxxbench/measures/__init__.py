"""The measure families, one module each; paxxbench.registry lists them."""
