"""Neural-network building blocks on top of the ops."""
from minigpt.nn.gpt import GPT, GPTConfig, count_params
from minigpt.nn.layers import Dropout, Embedding, LayerNorm, Linear, RMSNorm
from minigpt.nn.module import Module, Parameter

__all__ = ["GPT", "GPTConfig", "count_params", "Dropout", "Embedding", "LayerNorm", "Linear", "Module", "Parameter",
           "RMSNorm"]
