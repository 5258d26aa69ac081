"""Study: local convergence of mildly over-parameterised two-layer networks on the model of
Definition 2 of M. Zhou, R. Ge, C. Jin, "A Local Convergence Theory for Mildly
Over-Parameterized Two-Layer Neural Network", COLT 2021, PMLR 134:4577-4632 (arXiv 2102.02410):
absolute-value teacher and student, output weights tied to the neuron norms, x ~ N(0, I_d).

Modules: :mod:`.theory` (closed-form loss and gradient), :mod:`.problem` (teachers,
initialisations, Claims 1-2), :mod:`.engine` (batched GD / SGD), :mod:`.experiments`
(configuration), :mod:`.runs`, :mod:`.claims`, :mod:`.figures`, :mod:`.jobs` (what the
workflow calls, through :mod:`.__main__`), :mod:`.resources` (each job's memory and time),
:mod:`.workflow` (what the rules file needs).  See docs/studies/local_convergence.md.
"""
