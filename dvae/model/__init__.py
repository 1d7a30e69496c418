"""The model: encoder and decoder networks, the relaxations r(ζ|z) with their posteriors, the priors on the RBM, the
KL terms and objectives, and the discrete model's evaluation (importance-weighted bounds with AIS log Z). Imports
nothing of `dvae_sharp.dvae.runner`."""
