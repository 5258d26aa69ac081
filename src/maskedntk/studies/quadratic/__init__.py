"""Quadratic shallow networks in high dimensions (S. Martin, F. Bach, G. Biroli, "On the Impact of
Overparameterization on the Training of a Shallow Neural Network in High Dimensions", AISTATS
2024, arXiv 2311.03794).

Student f(x) = x^T W W^T x (W in R^{d x m}), teacher f*(x) = x^T M* x with M* = V V^T
(V in R^{d x m*}), x ~ N(0, I_d).  Modules:

- :mod:`.problems`   teacher and initialisation generators (orthonormal and Gaussian setups);
- :mod:`.engine`     batched gradient descent on the population risk (closed-form gradient);
- :mod:`.empirical`  gradient descent on the empirical risk with n samples (beyond the paper);
- :mod:`.masked`     masked training with p Bernoulli subnetworks and tau local steps (beyond);
- :mod:`.theory`     the initial spectral density, the d -> infinity solver (Prop. 5.1), rates;
- :mod:`.metrics`    fits and distances computed from trajectories;
- :mod:`.experiments` configuration -> grid of cells, with validation; the settings each job reads;
- :mod:`.jobs`       the simulation jobs the Snakemake rules call (``python -m ... JOB``, ``__main__``);
- :mod:`.resources`  each job's memory and time, from the settings it runs;
- :mod:`.workflow`   what the rules file needs: paths, inputs, settings and resources of every run;
- :mod:`.claims`     the falsifiable claims and their tests;
- :mod:`.figures`    one module per figure, all with ``render(inputs, pdf, png, settings)``.
"""

STUDY = "quadratic"
