"""The masked-neuron study: Liao & Kyrillidis, "On the Convergence of Shallow Neural Network
Training with Randomly Masked Neurons" (TMLR 2022; formulas from arXiv 2112.02668v1).

Its mathematics is written out in docs/masked/mathematics.md."""
