"""Where new sites should go.

``candidates`` (candidate sites), ``models`` (MCLP, LSCP, p-median, capacitated
MCLP on HiGHS, heuristics, reductions), ``suggest`` (instances from the prepared
network, solving, build order, explanations).
"""
