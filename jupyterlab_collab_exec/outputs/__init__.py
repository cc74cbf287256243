"""Kernel output to cell outputs: the reducer, stream text, display updates, and one
writer per cell."""
