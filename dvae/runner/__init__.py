"""The run around the model: the experiment (prepare, train, evaluate), the trainer with its optimiser and
checkpoints, the run directory and its files, interrupts, TensorBoard summaries, progress and provenance."""
