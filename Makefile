# `make run`: set up (once) and train the README's short CPU job. `make check`: the fast checks (about 3 minutes).
# `make test`: the whole suite. `make dist`: sdist and wheel in dist/. Set-up: .venv with the exact versions of
# constraints.txt and this project installed in editable mode with its test tools.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST := $(PY) -m pytest -q -n 2 -p no:cacheprovider --durations=15

.PHONY: setup run check test dist clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) run.py --dataset=binarized_mnist --struct=1-layer-lin --baseline=dvaes_power --k=1 \
	  --num_train_iter=2000 --eval_every=250 --summary_every=100 --sampler_chains=100 --sampler_sweeps=10 \
	  --ais_num_betas=300 --ais_num_chains=256 --val_iw_samples=10 --eval_iw_samples=100 \
	  --log_dir=./logs/make-run

check: $(STAMP)
	$(PYTEST) -m "not slow" tests

test: $(STAMP)
	$(PYTEST) tests

dist: $(STAMP)
	$(PY) -m build --no-isolation --outdir dist .

clean:
	rm -rf $(VENV) build dist *.egg-info
