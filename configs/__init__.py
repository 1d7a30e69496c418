"""The paper's tables and protocol as data, and the flags-to-configuration function."""
from dvae_sharp.configs.config import (FIELDS, SAMPLERS, Config, ConfigError, check_range, integer_range, make_config,
                                       numeric_names, validate)
from dvae_sharp.configs.paper import (BASELINES, BASELINE_SPECS, DATASETS, EVALUATION, STRUCTS, STRUCTURES, TRAINING,
                                      paper_beta)
