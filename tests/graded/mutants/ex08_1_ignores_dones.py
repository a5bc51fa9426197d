"""Mutant of 08.1: ignores dones, so advantages leak across episode boundaries."""
from solutions.ex08_ppo import gae as _reference


def gae(rewards, values, gamma=1.0, lam=0.95, last_value=0.0, dones=None):
    return _reference(rewards, values, gamma, lam, last_value, None)
