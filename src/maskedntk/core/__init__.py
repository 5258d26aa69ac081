"""The shared core of every study: atomic writes, provenance, job logging, claim statistics
and rendering, and the figure style.  Nothing here knows about a particular paper."""
