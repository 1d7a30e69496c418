"""Speed and accuracy benchmarks; run each as a module from the repository root: python -m benchmarks.NAME."""
from dvae_sharp.dvae.runner import quiet

quiet.tensorflow_started()  # before any benchmark imports TensorFlow, so its tables print without start-up noise
