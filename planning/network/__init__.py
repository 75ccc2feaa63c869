"""Travel over a road network: the engine and the prepared network every analysis reads.

``travel`` (snapping, nearest site, sparse OD matrices, service areas: the
per-query engine, kept as the reference), ``prepared`` (one network of one
mode with the demand snapped once and every site's reach kept, so an edit
recomputes one site).
"""
