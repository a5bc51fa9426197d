"""Mutant of 08.1: returns the advantages as the value targets (forgets + V)."""
from solutions.ex08_ppo import gae as _reference


def gae(rewards, values, gamma=1.0, lam=0.95, last_value=0.0, dones=None):
    adv, _ = _reference(rewards, values, gamma, lam, last_value, dones)
    return adv, adv
