"""The study's figures: one module per figure, each with ``render(inputs, pdf, png, cfg)``
drawing the measurement and the paper's prediction on the same axes."""
