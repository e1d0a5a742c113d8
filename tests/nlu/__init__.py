"""NLU data, metrics and held-out evaluation tests."""
