"""Road networks prepared for analysis: demand snapped once, reach of every site kept.

``prepared`` owns the prepared graph (``PreparedNetwork``) every standard, the
accessibility scores and the location models read.
"""
