"""The studies: one package per paper, each with its engine, theory, experiments, claims,
figures and jobs, built on :mod:`maskedntk.core`.

:data:`STUDIES` is the registry: the Snakefile includes ``workflow/rules/<name>.smk`` for each
entry and ``reproduce_all`` renders every study's figures and claims.  Adding a study adds one
line here (see docs/architecture.md for the files a new study brings).
"""

#: study name -> the paper it reproduces
STUDIES = {
    "masked": "Liao & Kyrillidis (TMLR 2022), shallow ReLU training with randomly masked neurons",
    "quadratic": "Martin, Bach & Biroli (AISTATS 2024), quadratic shallow networks in high dimensions",
    "local_convergence": "Zhou, Ge & Jin (COLT 2021), local convergence, mildly over-parameterised two-layer nets",
    "sublinear": "Qin, Song & Yang (arXiv 2307.06565, 2023), SGD with sublinearly many active neurons",
}
