"""Attaching implicit ("generalised reparameterisation") gradients to a sample (protocol §5.1, §5.7).

A relaxed sample ζ drawn by ancestral sampling has no useful pathwise derivative. Holding the mixture CDF fixed at
the sample, F(ζ; θ) = u, gives ∂ζ/∂θ = −(∂F/∂θ) / (∂F/∂ζ). The surrogate
    ζ̃ = sg(ζ) + Σ_θ [sg(g_θ) θ − sg(g_θ θ)]
has the value of ζ (each bracket is exactly zero in floating point) and the gradient g_θ with respect to each θ.
Because ζ̃ is an ordinary tensor, every later use (networks, densities, log-ratios) chains through it correctly.
"""
import tensorflow as tf


def with_implicit_gradients(value, gradients_and_parameters):
    """Returns `value` carrying d value / d parameter = gradient for each (gradient, parameter) pair.

    Each gradient must already broadcast to the shape of `value`; the parameters may broadcast (for example a
    per-unit scale shared by a batch), and their gradients are then summed by the usual broadcasting rules.
    """
    surrogate = tf.stop_gradient(value)
    for gradient, parameter in gradients_and_parameters:
        gradient = tf.stop_gradient(gradient)
        surrogate += gradient * parameter - tf.stop_gradient(gradient * parameter)
    return surrogate
