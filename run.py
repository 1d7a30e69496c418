"""Train and evaluate DVAE, DVAE++ or DVAE# on binarized MNIST or OMNIGLOT (the program is dvae_sharp/run.py).

    python run.py --dataset=binarized_mnist --struct=1-layer-lin --baseline=dvaes_power --k=1

Defaults reproduce the paper's protocol; CPU users lower the sampler and iteration flags. Logs, checkpoints and
results.json go to `{log_dir}/{dataset}/{struct}/{baseline}/{k}`; re-running the same command resumes.
"""
if __name__ == "__main__":  # from the first line on, a stop signal ends start-up with one line and 128 + N
    from dvae_sharp.dvae.runner import interrupts
    interrupts.stop_at_once()
    from dvae_sharp.run import console_main
    console_main()
