"""Test-wide setup: everything runs headless.

The variables are set before any test module imports pygame or matplotlib, so a CI machine
without a display (and without a sound card) runs the whole suite.
"""
import os

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"
os.environ["MPLBACKEND"] = "Agg"
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
