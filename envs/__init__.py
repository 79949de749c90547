"""robonet's simulated robots (installed as ``robonet.envs``)."""
