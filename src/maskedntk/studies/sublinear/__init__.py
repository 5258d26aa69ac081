"""Study: SGD training with sublinearly many active neurons (Qin, Song, Yang 2023,
arXiv 2307.06565): shifted-ReLU two-layer network, exact active-set identifiers (dense, a
scikit-learn ball tree, a dynamic partition tree in the paper's Init/Query/Update scheme), the
sparsity, loss-rate and cost experiments, their figures and claims."""
