"""maskedntk: training shallow ReLU networks with randomly masked neurons (Liao & Kyrillidis,
TMLR 2022; arXiv 2112.02668v1), its theory, and the experiments that check it."""

__version__ = "0.1.0"
