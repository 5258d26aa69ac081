"""Figures of the maskedntk workflow: one module per figure, each with a ``render`` function
that reads the aggregated tables and writes a PDF and a PNG in the shared style."""
