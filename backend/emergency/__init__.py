"""Emergency mode (平急转换): an area switched from peacetime into an emergency, and back.

While a mode lasts, the time limits of the cases located in its area shrink by its factor; see
``clocks`` for the rule and ``service`` for the switch.
"""
