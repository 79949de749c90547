"""The article's dense network in plain NumPy."""
