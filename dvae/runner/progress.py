"""Console progress of a training run: step, steps per second, ETA and the current bound, about every ten seconds."""
import time


def format_duration(seconds):
    """`3d 04:05:06` above a day, else `04:05:06`; no wrap-around at 24 hours."""
    seconds = max(0, int(round(seconds)))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    clock = f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{days}d {clock}" if days else clock


class Progress:
    """Measures the rate from the end of the first step on, so graph tracing does not count in steps/s or ETA."""

    def __init__(self, start_step, total_steps, objective_tag="objective", interval=10.0, clock=time.perf_counter):
        self.total, self.interval, self.clock, self.objective_tag = total_steps, interval, clock, objective_tag
        self.start_step, self.start_time = start_step, None
        self.last_print = clock()

    def steps_per_second(self, step):
        """Steps per second since the first step of this process ended (0 before two steps)."""
        if self.start_time is None or step <= self.start_step:
            return 0.0
        return (step - self.start_step) / max(self.clock() - self.start_time, 1e-9)

    def update(self, step, values):
        """Records that `step` finished; prints a line if `interval` seconds passed or training is done."""
        now = self.clock()
        if self.start_time is None:
            self.start_step, self.start_time = step, now
        if now - self.last_print < self.interval and step != self.total:
            return
        self.last_print = now
        rate = self.steps_per_second(step)
        eta = format_duration((self.total - step) / rate) if rate > 0 else "--:--:--"
        bound = f"  {self.objective_tag} {float(values['objective']):.3f}" if "objective" in values else ""
        print(f"step {step}/{self.total}  {rate:.1f} steps/s  ETA {eta}{bound}", flush=True)
