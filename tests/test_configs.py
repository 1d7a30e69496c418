"""The configuration against the original protocol document: every β cell, struct sizes, schedules, errors."""
import pathlib
import re

import pytest

from dvae_sharp import configs

PROTOCOL = pathlib.Path(__file__).resolve().parents[1] / "docs" / "PROTOCOL.md"


def _beta_tables_from_protocol():
    """Parses the two Markdown β tables of protocol §4.2 into {dataset: {baseline: (lin, nonlin, deep)}}."""
    text = PROTOCOL.read_text()
    section = text[text.index("### 4.2"):text.index("### 4.3")]
    tables = {}
    for dataset in configs.DATASETS:
        block = section[section.index(f"`{dataset}`:"):]
        rows = {}
        for line in block.splitlines()[1:]:
            match = re.match(r"\|\s*(\w+)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|", line)
            if match:
                rows[match.group(1)] = tuple(float(match.group(i)) for i in (2, 3, 4))
            elif rows and not line.startswith("|"):
                break
        tables[dataset] = rows
    return tables


def test_every_beta_cell_matches_the_protocol_document():
    tables = _beta_tables_from_protocol()
    checked = 0
    for dataset in configs.DATASETS:
        assert set(tables[dataset]) == set(configs.BASELINES)
        for baseline in configs.BASELINES:
            for struct in configs.STRUCTS:
                column = {"1-layer-lin": 0, "1-layer-nonlin": 1}.get(struct, 2)
                expected = tables[dataset][baseline][column]
                assert configs.paper_beta(dataset, struct, baseline) == expected, (dataset, struct, baseline)
                assert configs.make_config(dataset=dataset, struct=struct, baseline=baseline).beta == expected
                checked += 1
    assert checked == 2 * 8 * 4


def test_struct_sizes_and_rbm_sides():
    sizes = {name: (s.num_groups, s.units_per_group, s.num_latents, s.hidden_layers, s.rbm_side)
             for name, s in configs.STRUCTURES.items()}
    assert sizes == {"1-layer-lin": (1, 200, 200, 0, 100), "1-layer-nonlin": (1, 200, 200, 2, 100),
                     "2-layer-nonlin": (2, 200, 400, 2, 200), "4-layer-nonlin": (4, 100, 400, 2, 200)}


def test_defaults_are_the_original_protocol():
    config = configs.make_config()
    assert (config.dataset, config.struct, config.baseline, config.k, config.sampler) == (
        "binarized_mnist", "2-layer-nonlin", "dvaes_power", 1, "pa")
    assert (config.num_train_iter, config.train_batchsize, config.eval_batchsize, config.base_lr) == (
        1000000, 100, 1000, 3e-3)
    assert (config.eval_iw_samples, config.val_iw_samples, config.eval_every) == (4000, 100, 20000)
    assert (config.sampler_chains, config.sampler_sweeps, config.ais_num_betas, config.ais_num_chains) == (
        1000, 40, 1000, 1024)
    assert config.lr_boundaries == [20000, 600000, 750000, 950000]
    assert config.lr_values == pytest.approx([3e-4, 3e-3, 1e-3, 3e-4, 9.0909e-5], rel=1e-4)
    assert config.kl_warmup_steps == 300000
    assert config.experiment_id == "binarized_mnist/2-layer-nonlin/dvaes_power/1"
    assert configs.make_config(dataset="omniglot").eval_batchsize == 269
    assert configs.make_config(num_train_iter=50000).eval_every == 10000


def test_importance_weighting_only_for_dvae_sharp_with_several_samples():
    for baseline in configs.BASELINES:
        sharp = baseline.startswith("dvaes_")
        assert configs.make_config(baseline=baseline, k=1).use_iw is False
        assert configs.make_config(baseline=baseline, k=5).use_iw is sharp


def test_beta_override_changes_only_beta():
    default = configs.make_config(dataset="omniglot", struct="1-layer-lin")
    override = configs.make_config(dataset="omniglot", struct="1-layer-lin", beta=7.5)
    assert override.beta == 7.5
    assert {**default.to_dict(), "beta": 7.5} == override.to_dict()


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(struct="3-layer"), "1-layer-lin, 1-layer-nonlin, 2-layer-nonlin, 4-layer-nonlin"),
    (dict(dataset="mnist"), "binarized_mnist, omniglot"),
    (dict(baseline="dvae"), "dvaes_power"),
    (dict(k=0), "--k=0"),
    (dict(beta=-1.0), "--beta=-1.0"),
    (dict(sampler_chains=0), "--sampler_chains=0"),
    (dict(ais_num_betas=1), "--ais_num_betas=1"),
    (dict(input_size=100), "784"),
])
def test_bad_choices_give_one_line_errors(kwargs, fragment):
    with pytest.raises(configs.ConfigError) as error:
        configs.make_config(**kwargs)
    assert fragment in str(error.value) and "\n" not in str(error.value)
