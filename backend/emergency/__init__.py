"""Emergency mode (平急转换): an area switched from peacetime into an emergency, and back.

While a mode lasts, the time limits of the cases located in its area shrink by its factor:
``service`` reads the modes and their factor (the case workflow asks it for every new clock),
``switching`` switches them, and the cases recompute their due times by the rule of
backend/cases/clocks.py.
"""
