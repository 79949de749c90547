"""The article's dense network in plain NumPy.

IMPLEMENTER, READ FIRST: the working rules for this shared checkout (other agents edit other
files at the same time; commit only your own paths, never `git add -A`) and the exact API
contracts other areas code against (Network.save(metadata=, extra_arrays=), robonet.nn.io.load,
Trainer.step, fit's history keys and callback(epoch, logs), robonet/plots.py signatures) are in
/tmp/common.md. Remove this paragraph when you replace this file.
"""
