"""The hierarchical encoder (protocol §7.2); its posteriors are the distributions of smoothing/."""
import tensorflow as tf

from dvae_sharp import smoothing
from dvae_sharp.dvae.model import networks
from dvae_sharp.dvae.model import rows as row_layout


def bernoulli_posterior(group, outputs):
    """The discrete evaluation posterior of a group: factorial Bernoulli on its logits (protocol §5.8)."""
    return smoothing.FactorialBernoulli(outputs[0])


class HierarchicalEncoder(tf.Module):
    """One MLP per latent group g on [x − x̄, ζ₁, …, ζ_{g−1}] (protocol §7.2); GI adds a per-unit scale s."""

    def __init__(self, structure, input_size, num_params, seed, name="encoder"):
        """`num_params` outputs per latent unit (the relaxation's); with 2 (the Gaussian integral) the encoder also
        holds the per-unit scales s of σ."""
        super().__init__(name=name)
        units = structure.units_per_group
        hidden = [structure.hidden_units] * structure.hidden_layers
        seeds = tf.random.experimental.stateless_split(seed, num=structure.num_groups)
        self.nets = [networks.FeedForward([input_size + g * units] + hidden + [units * num_params], seeds[g],
                                          name=f"group_{g}") for g in range(structure.num_groups)]
        self.num_params = num_params
        self.gi_scales = ([tf.Variable(tf.ones([units]), name=f"gi_scale_{g}") for g in range(structure.num_groups)]
                          if num_params == 2 else [])

    def __call__(self, x_centered, make_posterior, seed, training, rows=row_layout.ONE_PER_IMAGE):
        """Returns the per-group posteriors (`make_posterior(group, outputs)`, a distribution) and one sample of
        each, each group conditioned on the earlier samples.

        With `rows` (dvae/model/rows.py) of several rows per image, every image x [B, 784] gets that many
        independent samples in that layout; what depends on x alone is computed once per image and expanded: the
        first group's output, and the x part x W_x of the later groups' first layer [x, ζ₁, …] W. In training the
        first group's batch statistics are then those of the B images, which equal those of their k copies.
        """
        seeds = tf.random.experimental.stateless_split(seed, num=len(self.nets))
        posteriors, samples = [], []
        for g, net in enumerate(self.nets):
            if g == 0:
                output = rows.expand(net(x_centered, training))
            elif rows.one_per_image:
                output = net(tf.concat([x_centered] + samples, -1), training)
            else:
                first_layer = net.dense[0].per_image_and_per_row(x_centered, tf.concat(samples, -1), rows.expand)
                output = net.from_first_layer(first_layer, training)
            outputs = tf.split(output, self.num_params, axis=-1)
            posterior = make_posterior(g, outputs)
            posteriors.append(posterior)
            samples.append(posterior.sample(seed=seeds[g]))
        return posteriors, samples

    def gi_sigma(self, group):
        """σ = |0.2 s| + 0.05 per unit, independent of x (protocol §5.7)."""
        return tf.abs(0.2 * self.gi_scales[group]) + 0.05
