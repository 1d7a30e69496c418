"""Importance-weighted evaluation of the discrete model (protocol §10.2).

For each image x and k independent samples zⱼ ~ q(z|x):
    log p̂(x) = log (1/k) Σⱼ exp(log wⱼ),   log wⱼ = log p(zⱼ) + log p(x|zⱼ) − log q(zⱼ|x),
the same single-sample-per-point estimator as the original, vectorised over samples in chunks of bounded size
(the first encoder group, which sees only x, runs once per image), and accumulated with logsumexp in float64.
Its Monte-Carlo variance per image is estimated by the delta method,
    Var[log p̂(x)] ≈ (mean(w²) / mean(w)² − 1) / k,
and the standard error of the mean over N images is √(Σ Var) / N.
"""
import numpy as np
import tensorflow as tf
from scipy.special import logsumexp

import data

MAX_ROWS_PER_CALL = 20000


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
        neg_ll, neg_elbo, variance = [], [], []
        for x in data.eval_batches(images, batch_size):
            log_mean_w, log_mean_w2, elbo_sum = self._batch(tf.constant(x), num_samples, rng, check_stop)
            neg_ll.append(-log_mean_w)
            neg_elbo.append(elbo_sum / num_samples)
            variance.append(np.expm1(log_mean_w2 - 2.0 * log_mean_w) / num_samples)
        variance = np.concatenate(variance)
        return {"neg_ll": float(np.mean(np.concatenate(neg_ll))),
                "neg_ll_mc_stderr": float(np.sqrt(np.sum(variance)) / len(variance)),
                "neg_elbo": float(np.mean(np.concatenate(neg_elbo)))}

    def _batch(self, x, num_samples, rng, check_stop):
        per_call = max(1, min(num_samples, MAX_ROWS_PER_CALL // int(x.shape[0])))
        log_sum_w = np.full(int(x.shape[0]), -np.inf)
        log_sum_w2 = np.full(int(x.shape[0]), -np.inf)
        elbo_sum = np.zeros(int(x.shape[0]))
        done = 0
        while done < num_samples:
            check_stop()
            reps = min(per_call, num_samples - done)
            seed = rng.make_seeds(1)[:, 0]
            log_w, neg_elbo = self._score(x, tf.constant(reps, tf.int32), seed)
            log_w = log_w.numpy().astype(np.float64)
            log_sum_w = np.logaddexp(log_sum_w, logsumexp(log_w, axis=0))
            log_sum_w2 = np.logaddexp(log_sum_w2, logsumexp(2.0 * log_w, axis=0))
            elbo_sum += neg_elbo.numpy().astype(np.float64).sum(axis=0)
            done += reps
        return log_sum_w - np.log(num_samples), log_sum_w2 - np.log(num_samples), elbo_sum

