"""The errors a run reports as one line: set-up problems found before training, and stops during it."""
import re


class SetupError(Exception):
    """A problem found before training starts; one line."""


class RunError(Exception):
    """A run that had to stop (a diverged loss, a checkpoint or results file that cannot be written); one line."""


def first_line(error):
    """The first line of an error's message, without TensorFlow's `{{function_node …}}` and `[Op:…]` wrapping."""
    text = re.sub(r"\{\{[^}]*\}\}|\[Op:\w+\]", "", getattr(error, "message", None) or str(error)).strip()
    return text.splitlines()[0].strip() if text else type(error).__name__
