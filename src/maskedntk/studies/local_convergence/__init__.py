"""Study: local convergence of mildly over-parameterised two-layer ReLU networks
(M. Zhou, R. Ge, C. Jin, "A Local Convergence Theory for Mildly Over-Parameterized Two-Layer
Neural Network", COLT 2021, PMLR 134:4577-4632, arXiv 2102.02410).

Modules: :mod:`.theory` (arc-cosine-kernel closed forms), :mod:`.rates` (predicted forms), :mod:`.problem`
(teacher, initialisation, data), :mod:`.engine` (batched GD on both layers), :mod:`.metrics`,
:mod:`.experiments` (configuration), :mod:`.runs`, :mod:`.claims`, :mod:`.figures`,
:mod:`.jobs` (what the workflow calls).  See docs/studies/local_convergence.md.
"""
