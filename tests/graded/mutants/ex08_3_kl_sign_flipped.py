"""Mutant of 08.3: rewards +beta (logp - logp_ref): pays the policy for drifting away from the reference."""
from solutions.ex08_ppo import kl_penalized_rewards as _reference


def kl_penalized_rewards(logp, logp_ref, score, beta, mask):
    return _reference(logp, logp_ref, score, -beta, mask)
