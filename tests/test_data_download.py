"""Downloads from a local HTTP server: verified before anything is written, written atomically, clear errors."""
import hashlib
import http.server
import os
import socket
import stat
import threading

import numpy as np
import pytest

from dvae_sharp import data
from dvae_sharp.data import locate, mnist, omniglot
from tests.test_data_omniglot import grey_images, write_chardata

TIMEOUT_S = 5.0
TINY_ROWS = {"train": 6, "valid": 2, "test": 3}


class _Files(http.server.BaseHTTPRequestHandler):
    files = {}

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        """Keep the test output quiet."""


@pytest.fixture
def server():
    """A local HTTP server on an ephemeral port; tests fill `server.files` (path -> bytes)."""
    handler = type("Files", (_Files,), {"files": {}})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    httpd.files = handler.files
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(TIMEOUT_S)


@pytest.fixture
def closed_port_url():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/data"


def tiny_mnist():
    rng = np.random.default_rng(7)
    splits = {split: (rng.uniform(size=(rows, 784)) < 0.2).astype(np.uint8) for split, rows in TINY_ROWS.items()}
    expected = {split: mnist.SplitDigest(len(images), hashlib.sha256(images.tobytes()).hexdigest())
                for split, images in splits.items()}
    return splits, expected


def amat_text(images):
    return "".join(" ".join(str(value) for value in row) + "\n" for row in images).encode()


def serve_mnist(server, splits, prefix="/mnist"):
    for split, images in splits.items():
        server.files[f"{prefix}/binarized_mnist_{split}.amat"] = amat_text(images)
    return server.url + prefix


def test_download_parses_verifies_and_writes_the_packed_cache(server, tmp_path, capsys):
    splits, expected = tiny_mnist()
    base_url = serve_mnist(server, splits)
    loaded = mnist.load_splits(tmp_path, base_url=base_url, expected=expected, timeout=TIMEOUT_S)
    progress = capsys.readouterr().err
    for split, images in splits.items():
        np.testing.assert_array_equal(loaded[split], images)
        assert f"{base_url}/binarized_mnist_{split}.amat" in progress
    assert [path.name for path in tmp_path.iterdir()] == ["binarized_mnist.npz"]
    with np.load(tmp_path / "binarized_mnist.npz", allow_pickle=False) as archive:
        assert sorted(archive.files) == ["test", "train", "valid"]
        for split, images in splits.items():
            assert archive[split].shape == (len(images), 98) and archive[split].dtype == np.uint8
            np.testing.assert_array_equal(np.unpackbits(archive[split], axis=1), images)


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_the_downloaded_cache_honours_the_umask(umask, server, tmp_path):
    """A data directory shared on a cluster stays readable by the group: the cache gets 0666 less the umask, as
    any file created with open(), not the owner-only mode of a temporary file."""
    splits, expected = tiny_mnist()
    previous = os.umask(umask)
    try:
        mnist.load_splits(tmp_path, base_url=serve_mnist(server, splits), expected=expected, timeout=TIMEOUT_S)
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "binarized_mnist.npz").stat().st_mode) == 0o666 & ~umask


def test_load_dataset_downloads_into_the_env_dir_from_the_env_url(server, tmp_path, monkeypatch, capsys):
    splits, expected = tiny_mnist()
    monkeypatch.setenv("DVAE_DATA_DIR", str(tmp_path / "new" / "dir"))
    monkeypatch.setenv("DVAE_MNIST_URL", serve_mnist(server, splits))
    monkeypatch.setattr(mnist, "EXPECTED", expected)
    dataset = data.load_dataset("binarized_mnist")
    np.testing.assert_array_equal(dataset.test, splits["test"])
    np.testing.assert_array_equal(dataset.train_mean, splits["train"].mean(axis=0))
    progress = capsys.readouterr().err
    assert all(f"binarized_mnist_{split}.amat" in progress for split in TINY_ROWS)
    assert (tmp_path / "new" / "dir" / "binarized_mnist.npz").is_file()


def test_corrupted_download_is_refused_and_nothing_is_written(server, tmp_path):
    splits, expected = tiny_mnist()
    corrupted = dict(splits, test=splits["test"].copy())
    corrupted["test"][1, 100] ^= 1
    base_url = serve_mnist(server, corrupted)
    with pytest.raises(data.DataError, match="split 'test' fails its sha256 checksum") as error:
        mnist.load_splits(tmp_path, base_url=base_url, expected=expected, timeout=TIMEOUT_S)
    assert f"{base_url}/binarized_mnist_test.amat" in str(error.value) and "nothing was written" in str(error.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("corrupt_line, problem", [
    ("0 1 2" + " 0" * 781, "values in {0, 1}"),
    ("0 1" + " 0" * 781, "784"),
])
def test_malformed_text_is_refused(server, tmp_path, corrupt_line, problem):
    splits, expected = tiny_mnist()
    base_url = serve_mnist(server, splits)
    lines = server.files["/mnist/binarized_mnist_valid.amat"].decode().splitlines()
    server.files["/mnist/binarized_mnist_valid.amat"] = "\n".join([lines[0], corrupt_line]).encode()
    with pytest.raises(data.DataError, match=problem):
        mnist.load_splits(tmp_path, base_url=base_url, expected=expected, timeout=TIMEOUT_S)
    assert list(tmp_path.iterdir()) == []


def test_existing_corrupt_cache_is_an_error_not_a_silent_redownload(server, tmp_path):
    splits, expected = tiny_mnist()
    base_url = serve_mnist(server, splits)
    stale = dict(splits, valid=1 - splits["valid"])
    with open(tmp_path / "binarized_mnist.npz", "wb") as file:
        mnist.save_packed(file, stale)
    before = (tmp_path / "binarized_mnist.npz").read_bytes()
    with pytest.raises(data.DataError, match="split 'valid' fails its sha256 checksum.*delete"):
        mnist.load_splits(tmp_path, download=True, base_url=base_url, expected=expected, timeout=TIMEOUT_S)
    assert (tmp_path / "binarized_mnist.npz").read_bytes() == before
    assert [path.name for path in tmp_path.iterdir()] == ["binarized_mnist.npz"]


def test_missing_server_file_is_reported(server, tmp_path):
    with pytest.raises(data.DataError, match="404"):
        mnist.load_splits(tmp_path, base_url=server.url + "/nowhere", timeout=TIMEOUT_S)
    assert list(tmp_path.iterdir()) == []


def test_no_network_names_files_url_and_env(tmp_path, closed_port_url):
    with pytest.raises(data.DataError) as error:
        mnist.load_splits(tmp_path, base_url=closed_port_url, timeout=TIMEOUT_S)
    message = str(error.value)
    assert "\n" not in message
    for needed in ("binarized_mnist.npz", "binarized_mnist_train.amat", "binarized_mnist_test.amat",
                   closed_port_url, "DVAE_DATA_DIR"):
        assert needed in message
    assert list(tmp_path.iterdir()) == []


def test_unwritable_data_dir_is_a_clear_error(server, tmp_path):
    splits, expected = tiny_mnist()
    (tmp_path / "a_file").write_bytes(b"")
    with pytest.raises(data.DataError, match="cannot write binarized_mnist.npz.*DVAE_DATA_DIR"):
        mnist.load_splits(tmp_path / "a_file" / "sub", base_url=serve_mnist(server, splits), expected=expected,
                          timeout=TIMEOUT_S)


def test_failed_write_keeps_the_existing_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "binarized_mnist.npz"
    target.write_bytes(b"the good old file")

    def write_then_fail(file):
        file.write(b"half of a new file")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        locate.write_atomically(target, write_then_fail)
    assert target.read_bytes() == b"the good old file"
    assert list(tmp_path.iterdir()) == [target]


def _chardata_bytes(tmp_path):
    write_chardata(tmp_path / "source.mat", grey_images(1350, seed=3), grey_images(4, seed=4))
    return (tmp_path / "source.mat").read_bytes()


def test_omniglot_download_checks_md5_then_loads(server, tmp_path, capsys):
    raw = _chardata_bytes(tmp_path)
    server.files["/iwae/chardata.mat"] = raw
    target_dir = tmp_path / "cache"
    splits = omniglot.load_splits(target_dir, url=server.url + "/iwae/chardata.mat",
                                  md5=hashlib.md5(raw).hexdigest(), timeout=TIMEOUT_S)
    assert (target_dir / "chardata.mat").read_bytes() == raw
    assert [path.name for path in target_dir.iterdir()] == ["chardata.mat"]
    assert splits["train"].shape == (5, 784) and splits["valid"].shape == (1345, 784)
    assert "/iwae/chardata.mat" in capsys.readouterr().err


def test_omniglot_download_with_wrong_md5_writes_nothing(server, tmp_path):
    server.files["/iwae/chardata.mat"] = _chardata_bytes(tmp_path)
    target_dir = tmp_path / "cache"
    with pytest.raises(data.DataError, match="fails its md5 checksum.*expected 21ecaf34373511aa7691cf2e0802aa3d"):
        omniglot.load_splits(target_dir, url=server.url + "/iwae/chardata.mat", timeout=TIMEOUT_S)
    assert not target_dir.exists()


def test_omniglot_no_network_names_file_url_and_env(tmp_path, closed_port_url, monkeypatch):
    url = closed_port_url + "/chardata.mat"
    monkeypatch.setenv("DVAE_OMNIGLOT_URL", url)
    with pytest.raises(data.DataError) as error:
        data.load_dataset("omniglot", str(tmp_path))
    assert all(needed in str(error.value) for needed in ("chardata.mat", url, "DVAE_DATA_DIR"))
    assert list(tmp_path.iterdir()) == []
