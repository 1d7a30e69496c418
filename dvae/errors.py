"""The errors a run reports as one line: set-up problems found before training, and stops during it."""


class SetupError(Exception):
    """A problem found before training starts; one line."""


class RunError(Exception):
    """A run that had to stop (a diverged loss, a checkpoint or results file that cannot be written); one line."""
