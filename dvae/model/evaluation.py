"""Importance-weighted evaluation of the discrete model (protocol §10.2).

For each image x and k independent samples zⱼ ~ q(z|x):
    log p̂(x) = log (1/k) Σⱼ exp(log wⱼ),   log wⱼ = log p(zⱼ) + log p(x|zⱼ) − log q(zⱼ|x),
the same single-sample-per-point estimator as the original, vectorised over samples in chunks of bounded size
(the first encoder group, which sees only x, runs once per image), and accumulated with logsumexp in float64.
Its Monte-Carlo variance per image comes from the two halves of the samples: with L_A and L_B the estimates from
the first ⌊k/2⌋ and the remaining samples (sizes h_A, h_B) and Var[log p̂] ≈ c/k to leading order,
    E[(L_A − L_B)²] = c (1/h_A + 1/h_B),   so   Var[log p̂(x)] ≈ (L_A − L_B)² / (k (1/h_A + 1/h_B)),
which is ≈ (L_A − L_B)²/4 for even k; the standard error of the mean over N images is √(Σ Var) / N. Against the
spread of independent replicates this was 0.83–1.06 of the truth on small models for k = 8…200, where the delta
method, (mean(w²)/mean(w)² − 1)/k from the same samples, gave 0.44–0.94: heavy-tailed weights make a sample's own
variance too small. It needs k ≥ 2 (None otherwise). Where the weights' tail is heavier the leading order does
not hold and it is too small too: on the 2000-step `make run` model (k = 100, 10000 test images) Σ Var[log p̂]
fell by 0.74–0.78 per doubling of k from 25 to 200 instead of 0.5, and the standard error was 0.0106 against
a spread of 0.0149 over 40 replicates (0.71 of it). In the study's runs (k = 1000) it is 0.003–0.006 nats, a
tenth (at most a sixth) of the AIS error of log Z, which enters the NLL one for one.
"""
from typing import NamedTuple, Optional

import numpy as np
import tensorflow as tf
from scipy.special import logsumexp

from dvae_sharp import data

MAX_ROWS_PER_CALL = 20000


class PerImage(NamedTuple):
    """Per image, in float64: log p̂(x), the Monte-Carlo variance of log p̂(x) (None for one sample) and the
    neg-ELBO averaged over the samples."""
    log_px: np.ndarray
    variance: Optional[np.ndarray]
    neg_elbo: np.ndarray


class Evaluator:
    """Holds one compiled function that scores `reps` posterior samples of a batch of images."""

    def __init__(self, model):
        self.model = model
        signature = [tf.TensorSpec([None, model.config.input_size], tf.float32),
                     tf.TensorSpec([], tf.int32), tf.TensorSpec([2], tf.int64)]
        self._score = tf.function(self._score_samples, input_signature=signature, autograph=False)

    def _score_samples(self, x, reps, seed):
        log_w, neg_elbo = self.model.evaluation_terms(x, seed, repeats=reps)
        shape = [reps, tf.shape(x)[0]]
        return tf.reshape(log_w, shape), tf.reshape(neg_elbo, shape)

    def evaluate(self, images, batch_size, num_samples, rng, check_stop=lambda: None):
        """Mean −log p̂(x) (`neg_ll`), its Monte-Carlo standard error (`neg_ll_mc_stderr`) and mean neg-ELBO over
        `images` with `num_samples` samples per image. `check_stop()` is called between calls of the compiled
        function; whatever it raises ends the evaluation."""
        estimates = self.per_image(images, batch_size, num_samples, rng, check_stop)
        stderr = None if estimates.variance is None else float(np.sqrt(np.sum(estimates.variance)) / len(images))
        return {"neg_ll": float(np.mean(-estimates.log_px)), "neg_ll_mc_stderr": stderr,
                "neg_elbo": float(np.mean(estimates.neg_elbo))}

    def per_image(self, images, batch_size, num_samples, rng, check_stop=lambda: None):
        """PerImage estimates for `images` in batches of `batch_size` (which must divide their number), drawing the
        seeds of the compiled calls from the tf.random.Generator `rng`."""
        log_px, neg_elbo, variance = [], [], []
        half = num_samples // 2
        for x in data.eval_batches(images, batch_size):
            log_sum_halves, elbo_sum = self._batch(tf.constant(x), num_samples, rng, check_stop)
            log_px.append(np.logaddexp(*log_sum_halves) - np.log(num_samples))
            neg_elbo.append(elbo_sum / num_samples)
            if half:
                sizes = (half, num_samples - half)
                first, second = (lse - np.log(size) for lse, size in zip(log_sum_halves, sizes))
                variance.append((first - second) ** 2 / (num_samples * (1 / sizes[0] + 1 / sizes[1])))
        return PerImage(np.concatenate(log_px), np.concatenate(variance) if half else None,
                        np.concatenate(neg_elbo))

    def _batch(self, x, num_samples, rng, check_stop):
        """(log Σ w over the first ⌊k/2⌋ samples, log Σ w over the rest) per image, and Σ neg-ELBO terms."""
        per_call = max(1, min(num_samples, MAX_ROWS_PER_CALL // int(x.shape[0])))
        half = num_samples // 2
        log_sums = [np.full(int(x.shape[0]), -np.inf), np.full(int(x.shape[0]), -np.inf)]
        elbo_sum = np.zeros(int(x.shape[0]))
        done = 0
        while done < num_samples:
            check_stop()
            reps = min(per_call, num_samples - done)
            seed = rng.make_seeds(1)[:, 0]
            log_w, neg_elbo = self._score(x, tf.constant(reps, tf.int32), seed)
            log_w = log_w.numpy().astype(np.float64)
            split = min(max(half - done, 0), reps)
            for index, part in enumerate((log_w[:split], log_w[split:])):
                if len(part):
                    log_sums[index] = np.logaddexp(log_sums[index], logsumexp(part, axis=0))
            elbo_sum += neg_elbo.numpy().astype(np.float64).sum(axis=0)
            done += reps
        return log_sums, elbo_sum

