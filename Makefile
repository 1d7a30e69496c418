# `make run`: set up (once) and train the README's short CPU job. `make test`: set up (once) and run the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run test clean

setup: $(STAMP)

$(STAMP): requirements.txt setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(PY) run.py --dataset=binarized_mnist --struct=1-layer-lin --baseline=dvaes_power --k=1 \
	  --num_train_iter=2000 --eval_every=1000 --sampler_chains=100 --sampler_sweeps=10 \
	  --ais_num_betas=300 --ais_num_chains=256 --val_iw_samples=10 --eval_iw_samples=100 \
	  --log_dir=./logs/make-run

test: $(STAMP)
	$(PY) -m pytest -q -n 2 tests

clean:
	rm -rf $(VENV) build *.egg-info
