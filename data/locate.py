"""Where the data lives, how it is fetched, and how files are put in place without leaving partial copies.

The data directory is looked up in this order: the `--data_dir` flag, the environment variable `DVAE_DATA_DIR`,
then a user cache directory (`$XDG_CACHE_HOME/dvae_sharp`, else `~/.cache/dvae_sharp`).
"""
import contextlib
import http.client
import os
import pathlib
import re
import sys
import tempfile
import urllib.request

DATA_DIR_ENV = "DVAE_DATA_DIR"
CACHE_SUBDIR = "dvae_sharp"
DOWNLOAD_TIMEOUT_S = 60.0
_CHUNK_BYTES = 1 << 20


class DataError(Exception):
    """Missing, corrupt or malformed data; the message is one line naming the file, the URL and `DVAE_DATA_DIR`."""

    def __init__(self, message):
        super().__init__(one_line(message))


def one_line(text):
    """`text` with every line break (and the whitespace around it) replaced by one space."""
    return re.sub(r"\s*[\r\n]+\s*", " ", str(text)).strip()


def resolve_data_dir(flag_value=None):
    """The data directory: `flag_value` if given, else `$DVAE_DATA_DIR`, else the user cache directory."""
    if flag_value:
        return pathlib.Path(flag_value).expanduser()
    from_env = os.environ.get(DATA_DIR_ENV)
    if from_env:
        return pathlib.Path(from_env).expanduser()
    cache_home = os.environ.get("XDG_CACHE_HOME")
    if cache_home and os.path.isabs(cache_home):
        return pathlib.Path(cache_home) / CACHE_SUBDIR
    return pathlib.Path.home() / ".cache" / CACHE_SUBDIR


def check_file_slot(path):
    """Raises DataError if `path` exists but is not a regular file (a directory of that name, say)."""
    if path.exists() and not path.is_file():
        raise DataError(f"{path} exists but is not a file; move it away so that the data can be read or cached "
                        f"there")


def fetch(url, timeout=DOWNLOAD_TIMEOUT_S):
    """The bytes at `url`, announced by one progress line on stderr.

    Raises `OSError` (including `urllib.error.URLError` and timeouts), `http.client.HTTPException` or
    `ValueError` (malformed URL); callers turn these into a `DataError` that names what was being fetched.
    """
    with urllib.request.urlopen(url, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        size = f"{int(length) / 1e6:.1f} MB" if length and length.isdigit() else "size unknown"
        print(f"downloading {url} ({size})", file=sys.stderr, flush=True)
        chunks = []
        while chunk := response.read(_CHUNK_BYTES):
            chunks.append(chunk)
    raw = b"".join(chunks)
    if length and length.isdigit() and len(raw) != int(length):
        raise http.client.IncompleteRead(raw, int(length) - len(raw))
    return raw


FETCH_ERRORS = (OSError, http.client.HTTPException, ValueError)


def write_atomically(path, write):
    """Create `path` by calling `write(binary_file)` on a temporary file in the same directory, then renaming it.

    The file gets the permissions `open()` would give it (0666 less the umask). A failure leaves neither a partial
    file nor a temporary file behind. Raises `DataError` if the directory cannot be written.
    """
    path = pathlib.Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    except OSError as error:
        raise _unwritable(path, error) from error
    try:
        with os.fdopen(handle, "wb") as temp_file:
            os.fchmod(temp_file.fileno(), new_file_mode())  # as open() would make it: shared caches stay shared
            write(temp_file)
            temp_file.flush()
            os.fsync(temp_file.fileno())
        os.replace(temp_name, path)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        if isinstance(error, OSError):
            raise _unwritable(path, error) from error
        raise


def new_file_mode():
    """The permissions `open()` gives a new file: 0666 less the umask (mkstemp's files are owner-only)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _unwritable(path, error):
    return DataError(f"cannot write {path.name} to {path.parent} ({error}); set --data_dir or {DATA_DIR_ENV} "
                     f"to a writable directory")
