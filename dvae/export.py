"""A trained model as a TensorFlow SavedModel whose signatures need nothing of this project to run.

    loaded = tf.saved_model.load(path)
    loaded.signatures["sample"](seed=tf.constant([1, 0], tf.int64))            # {"z", "means"}
    loaded.signatures["log_likelihood"](x=images, seed=tf.constant([1, 0], tf.int64))   # {"log_px", "stderr"}
    loaded.signatures["encode"](x=images, seed=...)                             # {"probs", "z"}
    loaded.signatures["reconstruct"](x=images, seed=...)                        # {"means"}

`x` is float32 [N, 784] binary images and every seed an int64 pair. `sample` draws a fixed number of prior samples
by population annealing from the uniform distribution (as `TrainedModel.sample`); `log_likelihood` uses a fixed
number k of importance samples per image and the log Z stored with the model (the estimator of
dvae/model/evaluation.py: log p̂(x) = log mean_j w_j, its variance from the two halves of the samples), drawn in chunks
of at most 50 samples, so a call holds about 50 N rows at a time. The loaded object also carries `num_samples`,
`num_prior_samples`, `log_z` and `config_json`.
"""
import json
import math

import tensorflow as tf

from dvae_sharp.dvae.model import priors
from dvae_sharp.dvae.model.encoder import bernoulli_posterior

SIGNATURES = ("sample", "log_likelihood", "encode", "reconstruct")
MAX_CHUNK = 50


def largest_divisor_at_most(n, limit):
    return max(d for d in range(1, min(n, limit) + 1) if n % d == 0)


class ServingModel(tf.Module):
    """The model's variables and the compiled signatures of the SavedModel."""

    def __init__(self, model, num_samples, num_prior_samples, num_sweeps):
        super().__init__(name="dvae_serving")
        if num_samples < 2:
            raise ValueError(f"num_samples must be at least 2 (the standard error needs two halves), got {num_samples}")
        self.model = model
        self.num_samples = tf.Variable(num_samples, trainable=False, name="num_samples")
        self.num_prior_samples = tf.Variable(num_prior_samples, trainable=False, name="num_prior_samples")
        self.log_z = tf.Variable(model.rbm.log_z, trainable=False, name="log_z")
        self.config_json = tf.Variable(json.dumps(model.config.to_dict(), sort_keys=True), trainable=False,
                                       name="config_json")
        self.prior_sampler = priors.fresh_sampler(model.rbm.left_size, num_prior_samples, num_sweeps)
        self._k, self._chunk = num_samples, largest_divisor_at_most(num_samples, MAX_CHUNK)
        images = tf.TensorSpec([None, model.config.input_size], tf.float32, name="x")
        seed = tf.TensorSpec([2], tf.int64, name="seed")
        self.sample = tf.function(self._sample, input_signature=[seed])
        self.log_likelihood = tf.function(self._log_likelihood, input_signature=[images, seed])
        self.encode = tf.function(self._encode, input_signature=[images, seed])
        self.reconstruct = tf.function(self._reconstruct, input_signature=[images, seed])

    def _sample(self, seed):
        rbm = self.model.rbm
        z = self.prior_sampler.update(rbm.b1, rbm.b2, rbm.w, tf.cast(seed, tf.int32))
        return {"z": z, "means": self.model.image_means(z)}

    def _log_likelihood(self, x, seed):
        """log p̂(x) and its standard error per image; samples [0, ⌊k/2⌋) form the first half."""
        k, chunk = self._k, self._chunk
        images = tf.shape(x)[0]
        minus_inf = tf.fill([images], tf.constant(-math.inf, tf.float64))

        def body(index, first, second):
            log_w = self.model.evaluation_terms(x, tf.random.experimental.stateless_fold_in(seed, index),
                                                repeats=chunk).log_w
            log_w = tf.cast(tf.reshape(log_w, [chunk, images]), tf.float64)
            in_first = (index * chunk + tf.range(chunk)) < k // 2
            halves = [tf.where(mask[:, None], log_w, -math.inf) for mask in (in_first, ~in_first)]
            first, second = (tf.reduce_logsumexp(tf.stack([total, tf.reduce_logsumexp(part, 0)]), 0)
                             for total, part in zip((first, second), halves))
            return index + 1, first, second

        _, first, second = tf.while_loop(lambda index, *_: index < k // chunk, body,
                                         (tf.constant(0), minus_inf, minus_inf))
        sizes = (k // 2, k - k // 2)
        log_px = tf.reduce_logsumexp(tf.stack([first, second]), 0) - math.log(k)
        variance = tf.square((first - math.log(sizes[0])) - (second - math.log(sizes[1]))) / (
            k * (1 / sizes[0] + 1 / sizes[1]))
        return {"log_px": log_px, "stderr": tf.sqrt(variance)}

    def _encode(self, x, seed):
        probs, z = self.model.posterior_probabilities(x, seed)
        return {"probs": probs, "z": z}

    def _reconstruct(self, x, seed):
        return {"means": self.model.reconstruction_means(x, seed)}


def export_saved_model(model, path, num_samples=100, num_prior_samples=100, num_sweeps=1000):
    """Writes the SavedModel of `model` (a DiscreteVAE holding its log Z) to `path`; returns the path."""
    serving = ServingModel(model, num_samples, num_prior_samples, num_sweeps)
    signatures = {name: getattr(serving, name).get_concrete_function() for name in SIGNATURES}
    tf.saved_model.save(serving, str(path), signatures=signatures)
    return path
