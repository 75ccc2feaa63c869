"""Coverage under tiered standards.

``standards`` (the standards table), ``compute`` (nearest qualifying site and
covered share of every demand point), ``gaps`` (clusters of uncovered demand),
``access`` (E2SFCA scores, Gini), ``analysis`` (the whole analysis and its files).
"""
