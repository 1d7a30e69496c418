"""What TensorBoard shows first: the Custom Scalars layout and the HParams metrics a run writes, read back from a
short real run's event files with TensorBoard's own reader."""
import re

import pytest
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.custom_scalar import layout_pb2, metadata as custom_scalar_metadata
from tensorboard.plugins.hparams import metadata as hparams_metadata

from dvae_sharp import configs
from dvae_sharp.dvae.runner import experiment, summaries

SHORT = dict(baseline="dvaes_gi", struct="1-layer-lin", k=2, num_train_iter=20, train_batchsize=20, eval_every=10,
             sampler_chains=16, sampler_sweeps=2, ais_num_betas=10, ais_num_chains=8, val_iw_samples=2,
             eval_iw_samples=2, eval_batchsize=5000)


@pytest.fixture(scope="module")
def events(tmp_path_factory, mnist_dir):
    config = configs.make_config(**SHORT)
    log_dir = tmp_path_factory.mktemp("tensorboard")
    with experiment.prepare(config, log_dir=log_dir, data_dir=str(mnist_dir), summary_every=10) as run:
        experiment.train_and_evaluate(run)
    accumulator = event_accumulator.EventAccumulator(str(log_dir / config.experiment_id),
                                                     size_guidance={"tensors": 0, "images": 0})
    accumulator.Reload()
    return accumulator


def _scalar_tags(events):
    plugin_tags = {custom_scalar_metadata.CONFIG_SUMMARY_TAG} | {
        tag for tag in events.Tags()["tensors"] if tag.startswith("_hparams_/")}
    return set(events.Tags()["tensors"]) - plugin_tags - set(summaries.IMAGE_TAGS)


def test_the_layout_opens_on_the_bounds_and_log_z_and_covers_every_scalar(events):
    stored = events.Tensors(custom_scalar_metadata.CONFIG_SUMMARY_TAG)[0].tensor_proto.string_val[0]
    layout = layout_pb2.Layout.FromString(stored)
    assert layout == summaries.custom_scalars_layout()
    titles = [(category.title, category.closed) for category in layout.category]
    assert titles[:2] == [("Bounds", False), ("log Z", False)] and all(closed for _, closed in titles[2:])
    first_chart = layout.category[0].chart[0].multiline.tag
    assert all(any(re.search(pattern, tag) for pattern in first_chart) for tag in ("val/neg_ll", "test/neg_ll"))
    patterns = [pattern for category in layout.category for chart in category.chart
                for pattern in chart.multiline.tag]
    tags = _scalar_tags(events)
    assert {"train/neg_iw_loss", "val/neg_ll", "eigen/lambda", "final/test/neg_ll", "weigh decay/total"} <= tags
    unplaced = sorted(tag for tag in tags if not any(re.search(pattern, tag) for pattern in patterns))
    assert unplaced == []


def test_hparams_metrics_are_the_few_that_runs_are_compared_by(events):
    content = events.SummaryMetadata(hparams_metadata.EXPERIMENT_TAG).plugin_data.content
    experiment_info = hparams_metadata.parse_experiment_plugin_data(content)
    metrics = [(m.name.tag, m.display_name) for m in experiment_info.metric_infos]
    assert metrics == list(summaries.HPARAMS_METRICS)
    assert {tag for tag, _ in metrics} <= _scalar_tags(events)
    assert sorted(h.name for h in experiment_info.hparam_infos) == sorted(summaries.HPARAMS_FIELDS)
