"""Reading wedge results files (docs/output-format.md) into pandas and xarray.

Category labels follow one rule everywhere (:meth:`Results.summary`, :meth:`Results.runs`,
:meth:`Results.to_xarray`, :attr:`Results.fields`): a field whose every category is an integer
(``islands_promised`` 0, 2, 4; ``rounds`` 1 ... 100) has integer labels (Python ``int``, NumPy
``int64``); the other fields (``format``: none, declaration, treaty) have string labels. Swept
keys come back with their parameter's type: integer keys as ``int64``, booleans as ``bool``, the
rest as ``float64``.
"""
from __future__ import annotations

import ctypes
import errno
import faulthandler
import fcntl
import numbers
import os
import pathlib
import pickle
import resource
import select
import shlex
import signal
import stat
import time
import tomllib
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence, Union

import h5py
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import xarray

FORMAT = "wedge-results"
FORMAT_VERSION = 1
#: The HDF5 filters wedge writes (deflate 1, shuffle 2, Fletcher-32 3); any other would make
#: HDF5 look for a filter plugin, another file, and is refused.
_FILTERS = {1, 2, 3}
#: deflate's largest compression ratio is 1,032:1; a compressed dataset may declare at most this
#: many times the bytes it stores.
_MAX_DEFLATE_RATIO = 1100
Z95 = 1.959963984540054

#: What :func:`open` accepts as a path.
PathLike = Union[str, "os.PathLike[str]"]
#: A category label: ``str`` for named categories, ``int`` for numeric ones.
Label = Union[str, int]

#: Categorical fields whose categories are round numbers: a run of a point with
#: ``negotiation.rounds = R`` can only take the labels up to R (MODEL.md section 5;
#: ``TugOfWar::categories_in_use`` in agents/tug_of_war.cpp).
ROUND_FIELDS = ("rounds", "threat_round", "shigemitsu_round", "two_island_round")

#: The columns of ``/rounds`` in the order of docs/output-format.md (HDF5 lists them by name);
#: columns a later file adds come after them.
ROUND_COLUMNS = ("round", "alignment", "islands_offered", "straits_clause", "alliance_clause",
                 "declaration_available", "dulles", "support_treaty", "support_declaration", "fisheries",
                 "sg_min_islands")


class ResultsError(Exception):
    """A file that is not a (complete, readable, supported) wedge results file."""


class ResultsBusyError(ResultsError):
    """The file is being written by another process (a ``wedge run`` or ``wedge merge`` holds its
    lock): wait until that run has finished or been interrupted. The file is not damaged."""


class ResultsPartialError(ResultsError):
    """The run that wrote the file was interrupted. The file is healthy: ``resume_command``
    continues it (``wedge run ... --resume``), unless this build's ``--resume`` would refuse it (a
    file of another results arithmetic or model version: then None, and the message says why, as
    ``wedge inspect`` does); ``allow_partial=True`` reads the runs done so far."""

    def __init__(self, message: str, resume_command: str | None = None):
        super().__init__(message)
        #: The command that continues the run, or None when it cannot be resumed (precision mode,
        #: or a file this build's --resume refuses).
        self.resume_command = resume_command


def _inspect_checks(path: pathlib.Path) -> tuple:
    """After this package's own checks passed: the checks ``wedge inspect`` makes of the file's
    metadata, run by the C++ reader itself (``wedge._core.check_results``: attributes such as
    format, model, experiment and the summaries' kinds read through HDF5's type conversion as
    wedge reads them, the stored experiment parsed and resolved, /design, the checkpoint and
    /blocks), so that a file inspect refuses is refused here too, with inspect's words. Returns
    the probe's report: ("ok",), or ("error", ResultsDamagedError) for damage and
    ("error", ResultsError) for another refusal (another model, not a results file)."""
    from . import _core  # built by `make build` into python/wedge/

    problem = _core.check_results(str(path))
    if not problem:
        return ("ok",)
    damaged = f"{path}: damaged: " in problem or f"{path} is damaged: " in problem
    return ("error", (ResultsDamagedError if damaged else ResultsError)(problem))


def _symlink_loop(path: pathlib.Path) -> bool:
    """Whether resolving ``path`` meets a loop of symbolic links (stat fails with ELOOP)."""
    try:
        os.stat(path)
    except OSError as err:
        return err.errno == errno.ELOOP
    return False


class ResultsDamagedError(ResultsError):
    """The file is damaged (truncated, corrupted, or inconsistent); the message says what."""


#: What the child process that reads a file first (:func:`_probe`) may use: the address space it
#: may add to what it inherits (2 GiB, or half the machine's memory when that is less), and its
#: wall-clock time in seconds; the limits of wedge's C++ reader (output/untrusted.hpp).
_PROBE_MEMORY_BYTES = min(2 << 30, os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2)
_PROBE_SECONDS = 60.0
#: True in the child of :func:`_probe` (which reads the file without probing it again).
_in_probe = False
#: Signals a crash ends the child with (not pytest's or faulthandler's handlers).
_CRASH_SIGNALS = (signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL, signal.SIGABRT,
                  signal.SIGINT, signal.SIGTERM, signal.SIGXCPU)


def _bytes_text(n: int) -> str:
    return f"{n >> 30} GiB" if n % (1 << 30) == 0 else f"{n >> 20} MiB"


def _errno_location() -> Any:
    libc = ctypes.CDLL(None)
    libc.__errno_location.restype = ctypes.POINTER(ctypes.c_int)
    return libc.__errno_location()


def _probe_child(out: int, path: pathlib.Path, allow_partial: bool, memory: int, seconds: float) -> None:
    """The child of :func:`_probe`: reads ``path`` as :class:`Results` does and reports, through
    the pipe ``out``, ``("ok",)``, ``("memory", text)`` or ``("error", exception)``. Never returns."""
    global _in_probe
    try:
        _in_probe = True
        faulthandler.disable()
        for sig in _CRASH_SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        vm = int(pathlib.Path("/proc/self/statm").read_text().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = vm + memory
        resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        cpu = int(seconds) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu if hard == resource.RLIM_INFINITY else min(cpu, hard), hard))
        err_no = _errno_location()
        err_no.contents.value = 0
        try:
            Results(path, allow_partial=allow_partial).close()
            report: tuple = _inspect_checks(path)
        except MemoryError as err:
            report = ("memory", str(err))
        except Exception as err:  # noqa: BLE001 - every error goes to the parent as it is
            # HDF5 does not always say an allocation failed; malloc's ENOMEM is then in errno.
            if err_no.contents.value == errno.ENOMEM:
                report = ("memory", str(err))
            elif isinstance(err, ResultsError) or isinstance(err, (FileNotFoundError, PermissionError)):
                report = ("error", err)
            else:
                # h5py's own exception (KeyError, RuntimeError, OSError, ...) from inside the
                # checked reading: the file is damaged where the checks could not name it.
                report = ("error", ResultsDamagedError(
                    f"{path}: damaged: {type(err).__name__}: {err}; `wedge inspect {path}` may say more"))
        try:
            data = pickle.dumps(report)
        except Exception:  # noqa: BLE001 - an exception that does not pickle: its type and text
            data = pickle.dumps(("error", ResultsError(f"{type(report[1]).__name__}: {report[1]}")))
        view = memoryview(data)
        while view:
            view = view[os.write(out, view):]
    finally:
        os._exit(0)


def _probe(path: pathlib.Path, allow_partial: bool) -> None:
    """Reads ``path`` as :class:`Results` does in a forked child first (with
    ``_PROBE_MEMORY_BYTES`` more address space than it inherits and ``_PROBE_SECONDS``): Debian
    12's HDF5 1.10.8, which h5py uses too, crashes (SIGSEGV) or allocates what the file claims on
    some damaged files (docs/reliability.md). Returns when the child could read it; raises the
    child's own exception (same type and text) when it could not, ResultsDamagedError when it
    crashed or ran out of memory or time, KeyboardInterrupt when Ctrl-C ended it."""
    if _in_probe:
        return
    read, write = os.pipe()
    # h5py's lock, held across the fork: no other thread of this process is then inside h5py or
    # HDF5, whose locks the child would otherwise inherit held (and wait for forever).
    with h5py._objects.phil:
        pid = os.fork()
    if pid == 0:
        os.close(read)
        _probe_child(write, path, allow_partial, _PROBE_MEMORY_BYTES, _PROBE_SECONDS)
    os.close(write)
    chunks = []
    timed_out = False
    deadline = time.monotonic() + _PROBE_SECONDS
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([read], [], [], min(left, 1.0))
            if not ready:
                continue
            chunk = os.read(read, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read)
        if timed_out:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)

    def damaged(what: str) -> ResultsDamagedError:
        return ResultsDamagedError(f"{path} is damaged: reading its metadata {what}; nothing was written")

    if timed_out:
        raise damaged(f"took longer than {_PROBE_SECONDS:g} s (the HDF5 library did not finish)")
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig in (signal.SIGINT, signal.SIGTERM):
            raise KeyboardInterrupt(f"interrupted while reading {path}")
        if sig == signal.SIGXCPU:
            raise damaged(f"took longer than {_PROBE_SECONDS:g} s of CPU time (the HDF5 library did not finish)")
        if sig == signal.SIGKILL:
            raise damaged("was killed (SIGKILL; out of memory?)")
        raise damaged(f"crashed the HDF5 library ({signal.Signals(sig).name})")
    data = b"".join(chunks)
    if os.waitstatus_to_exitcode(status) != 0 or not data:
        raise damaged(f"crashed the HDF5 library (the reading process ended with status "
                      f"{os.waitstatus_to_exitcode(status)})")
    report = pickle.loads(data)
    if report[0] == "memory":
        raise damaged(f"needed more than {_bytes_text(_PROBE_MEMORY_BYTES)} of memory (the HDF5 library "
                      f"allocates what the file claims); at {report[1]}")
    if report[0] == "error":
        raise report[1]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _control_character(text: str) -> str | None:
    """The first control character of ``text`` (Unicode category Cc: U+0000-U+001F,
    U+007F-U+009F) as "U+001B at byte 4" (1-based, in UTF-8), or None; as
    ``control_character`` in experiments/experiment.cpp."""
    for i, ch in enumerate(text):
        if ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F:
            byte = len(text[:i].encode("utf-8", "surrogatepass")) + 1
            return f"U+{ord(ch):04X} at byte {byte}"
    return None


def _typed_labels(labels: Sequence[Any]) -> list[Label]:
    """Category labels by the package's rule: all integers -> ints, else strings."""
    texts: list[Label] = [_text(c) for c in labels]
    try:
        return [int(t) for t in texts]
    except ValueError:
        return texts


def _write_lock_held(path: pathlib.Path) -> bool:
    """Whether a wedge process holds the write lock of results file ``path`` (NAME.h5 or
    NAME.h5.partial; the lock is NAME.h5.lock, held with flock while the file is written): the
    check `wedge inspect` makes (output/hdf5.cpp)."""
    base = str(path)
    if base.endswith(".partial"):
        base = base[: -len(".partial")]
    try:
        fd = os.open(base + ".lock", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        return err.errno in (errno.EWOULDBLOCK, errno.EAGAIN)
    finally:
        os.close(fd)  # releases the lock if we got it
    return False


def _resume_command(command_line: str, final: str) -> str:
    """The file's recorded command line with ``--resume`` (and without ``--force``)."""
    try:
        words = shlex.split(command_line)
    except ValueError:
        words = []
    if not words or "run" not in words:
        return f"wedge run EXPERIMENT --resume --out {shlex.quote(final)}"
    words = [w for w in words if w != "--force"]
    if "--resume" not in words:
        words.append("--resume")
    return shlex.join(words)


def wilson(k, n, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """95% Wilson score interval for k successes in n trials (arrays allowed); [0, 1] when n = 0.

    The same formula as the engine (engine/stats.cpp), exact 0 at k = 0 and 1 at k = n.
    Returns (low, high), arrays of the broadcast shape of ``k`` and ``n``.
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(n > 0, k / np.where(n > 0, n, 1), 0.0)
        z2 = z * z
        denom = 1.0 + z2 / n
        centre = (p + z2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
        low = np.where(k == 0, 0.0, np.maximum(0.0, centre - half))
        high = np.where(k == n, 1.0, np.minimum(1.0, centre + half))
    low = np.where(n > 0, low, 0.0)
    high = np.where(n > 0, high, 1.0)
    return low, high


class Results:
    """An open results file. Use as a context manager, or call :meth:`close`.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.h5`` file written by ``wedge run --out`` or ``wedge merge`` (or a ``.h5.partial``
        with ``allow_partial=True``).
    allow_partial : bool
        Accept a file whose run was interrupted (``complete = 0``); its summaries are those of the
        last checkpoint and its records those the checkpoint counts.

    Raises
    ------
    FileNotFoundError
        No such file.
    ResultsBusyError
        Another process is writing the file (the check of ``wedge inspect``).
    ResultsPartialError
        The run was interrupted and ``allow_partial`` is False; the message gives the command that
        resumes it.
    ResultsDamagedError
        The file is truncated, corrupted or inconsistent (e.g. counts that do not sum to the runs).
    ResultsError
        Not a wedge results file, or a newer ``format_version`` than this package reads.
    """

    def __init__(self, path: PathLike, allow_partial: bool = False):
        self.path = pathlib.Path(path)
        self._cache: tuple | None = None
        if not self.path.exists() and pathlib.Path(f"{self.path}.partial").is_file():
            # The user knows the --out name; while that run is written, or after it was
            # interrupted, only FILE.partial exists: its errors (busy, interrupted) say which.
            self.path = pathlib.Path(f"{self.path}.partial")
        if _symlink_loop(self.path):
            # The wording of every wedge command (output/paths.hpp), not "no such file".
            raise ResultsError(f"{self.path}: too many levels of symbolic links")
        if not self.path.exists():
            raise FileNotFoundError(f"{self.path}: no such file")
        if self.path.is_dir():
            raise ResultsError(f"{self.path}: is a directory")
        st = os.stat(self.path)
        if not stat.S_ISREG(st.st_mode):
            # A FIFO would hang the open, a device is no results file.
            raise ResultsError(f"{self.path}: not a regular file (a device, FIFO or socket); results files are "
                               "regular files")
        self._size = st.st_size
        # Read first in a child process: a damaged file can crash HDF5 itself (_probe).
        _probe(self.path, allow_partial)
        # A categorical field's categories (the labels, and the shape this reading gives its
        # tables) checked first by the C++ reader, so that a damaged list is refused in the words
        # of `wedge inspect` (output::categories_problem), not by whatever it upsets later here.
        from . import _core  # built by `make build` into python/wedge/

        problem = _core.check_categories(str(self.path))
        if problem:
            raise ResultsDamagedError(problem)
        try:
            self._file = h5py.File(self.path, "r", driver="sec2")
        except OSError as err:
            if _write_lock_held(self.path):
                raise self._busy() from None
            if not h5py.is_hdf5(self.path):
                raise ResultsError(f"{self.path}: not an HDF5 file (or damaged beyond reading)") from None
            raise ResultsDamagedError(
                f"{self.path}: damaged: cannot open it as HDF5 ({err}); `wedge inspect {self.path}` "
                "reports the same") from None
        try:
            self._check(allow_partial)
        except Exception:
            self._file.close()
            raise

    def _busy(self) -> ResultsBusyError:
        return ResultsBusyError(
            f"{self.path}: is being written by another process (it holds "
            f"{str(self.path).removesuffix('.partial')}.lock); open it when that run has finished "
            "or been interrupted")

    def _damaged(self, what: str) -> ResultsDamagedError:
        return ResultsDamagedError(f"{self.path}: damaged: {what}")

    # -- checked reading: the rules of wedge's C++ reader (output/hdf5.hpp) ----------------------
    # Objects are reached through hard links only; datasets whose data lives elsewhere (external
    # storage, virtual datasets) or behind a filter wedge does not write are refused (so no other
    # file is ever opened); every attribute and dataset is checked for type, shape and size before
    # it is read, and a dataset read whole may not declare more bytes than it stores.

    def _object(self, path: str) -> Any:
        """The object at absolute ``path``, each step a hard link."""
        obj = self._file
        walked = ""
        for part in path.strip("/").split("/"):
            walked += "/" + part
            if not isinstance(obj, h5py.Group):
                raise self._damaged(f"{walked}: its parent is not a group")
            link = obj.get(part, getlink=True)
            if link is None:
                raise self._damaged(f"{walked}: missing")
            if not isinstance(link, h5py.HardLink):
                kind = ("an external link (to another file)" if isinstance(link, h5py.ExternalLink)
                        else "a soft link" if isinstance(link, h5py.SoftLink) else "a user-defined link")
                raise self._damaged(f"{walked}: is {kind}; wedge follows only links within the file (hard links)")
            obj = obj[part]
        return obj

    def _group(self, path: str) -> h5py.Group:
        obj = self._object(path)
        if not isinstance(obj, h5py.Group):
            raise self._damaged(f"{path}: is not a group")
        return obj

    def _dataset(self, path: str, shape: tuple | None = None, kind: str = "u", whole: bool = True) -> h5py.Dataset:
        """The dataset at ``path`` after the checks above; ``kind`` 'u' (unsigned integers) or 'f'
        (floating point); ``shape`` exactly, if given; ``whole``: it will be read whole, so it
        must store what it declares."""
        ds = self._object(path)
        if not isinstance(ds, h5py.Dataset):
            raise self._damaged(f"{path}: is not a dataset")
        if ds.is_virtual:
            raise self._damaged(f"{path}: is a virtual dataset (its data would come from other files); wedge reads "
                                "data stored in the file only")
        if ds.external:
            raise self._damaged(f"{path}: stores its data in another file (external storage: "
                                f"\"{_text(ds.external[0][0])}\"); wedge reads data stored in the file only")
        dcpl = ds.id.get_create_plist()
        filters = [dcpl.get_filter(i)[0] for i in range(dcpl.get_nfilters())]
        for f in filters:
            if f not in _FILTERS:
                raise self._damaged(f"{path}: uses filter {f} (wedge writes only shuffle, deflate and Fletcher-32, and "
                                    "loads no filter plugins)")
        if ds.ndim not in (1, 2):
            raise self._damaged(f"{path}: is not a list or a table (a dataspace of rank 1 or 2)")
        dtype = ds.dtype
        if dtype.kind not in "uif" or dtype.itemsize > 8:
            raise self._damaged(f"{path}: does not hold numbers (integers or floating point of at most 8 bytes)")
        if (kind == "u" and dtype.kind != "u") or (kind == "f" and dtype.kind != "f"):
            wanted = "unsigned integers" if kind == "u" else "floating point"
            raise self._damaged(f"{path}: holds {dtype} values, expected {wanted}")
        if shape is not None and tuple(ds.shape) != tuple(shape):
            raise self._damaged(f"{path}: has shape {list(ds.shape)}, expected {list(shape)}")
        if whole:
            stored = ds.id.get_storage_size()
            if stored > self._size:
                raise self._damaged(f"{path}: declares {stored} bytes of storage, more than the file's {self._size}")
            declared = int(np.prod(ds.shape, dtype=object)) * dtype.itemsize
            if declared > stored * (_MAX_DEFLATE_RATIO if 1 in filters else 1):
                raise self._damaged(f"{path}: declares {int(np.prod(ds.shape, dtype=object))} elements "
                                    f"({declared} bytes) but stores {stored} bytes")
        return ds

    def _read(self, path: str, shape: tuple, kind: str = "u") -> np.ndarray:
        ds = self._dataset(path, shape, kind)
        try:
            return ds[()]
        except OSError as err:
            raise self._damaged(f"{path}: cannot read ({err})") from None

    @staticmethod
    def _attr_label(obj_path: str, name: str) -> str:
        return f"attribute {name}" if obj_path == "/" else f"{obj_path} attribute {name}"

    def _attr(self, obj_path: str, name: str, kinds: str, many: bool = False, max_count: int = 1) -> Any:
        """An attribute's value after checking its type (dtype kinds in ``kinds``; 'S' strings)
        and its number of values (one, or with ``many`` a list of at most ``max_count``)."""
        obj = self._file if obj_path == "/" else self._object(obj_path)
        label = self._attr_label(obj_path, name)
        if name not in obj.attrs:
            raise self._damaged(f"{label}: missing")
        aid = obj.attrs.get_id(name)
        shape = aid.shape
        if shape is None or len(shape) > 1:
            raise self._damaged(f"{label}: has neither one value nor a list of values")
        count = 1 if len(shape) == 0 else shape[0]
        if not many and count != 1:
            raise self._damaged(f"{label}: holds {count} values, expected one")
        if many and count > max_count:
            raise self._damaged(f"{label}: holds {count} strings, at most {max_count} expected")
        # The HDF5 type's class and size, as wedge checks them (numpy's dtype cannot represent some
        # damaged types that HDF5 still converts).
        ftype = aid.get_type()
        cls = ftype.get_class()
        is_string = cls == h5py.h5t.STRING
        wanted_class = h5py.h5t.INTEGER if "u" in kinds else h5py.h5t.FLOAT
        if ("S" in kinds) != is_string or (not is_string and (cls != wanted_class or ftype.get_size() > 8)):
            wanted = "a string" if "S" in kinds else "an integer" if "u" in kinds else "a floating-point number"
            raise self._damaged(f"{label}: is not {wanted}")
        if is_string:
            values = [_text(v) for v in np.atleast_1d(obj.attrs[name])]
            return values if many else values[0]
        # Numbers through HDF5's own conversion to 64 bits, as wedge reads them (the file type's
        # precision and bit offset apply; numpy's view of the stored bytes would ignore them).
        if "u" in kinds:
            signed = ftype.get_sign() == h5py.h5t.SGN_2
            value = np.zeros(1, dtype=np.int64 if signed else np.uint64)
            mtype = h5py.h5t.NATIVE_INT64 if signed else h5py.h5t.NATIVE_UINT64
        else:
            value = np.zeros(1, dtype=np.float64)
            mtype = h5py.h5t.NATIVE_DOUBLE
        try:
            aid.read(value, mtype=mtype)
        except (OSError, ValueError, TypeError) as err:
            raise self._damaged(f"{label}: cannot read: {err}") from None
        if "u" in kinds:
            if int(value[0]) < 0:
                raise self._damaged(f"{label}: is {int(value[0])}, expected a non-negative integer")
            return int(value[0])
        return float(value[0])

    def _attr_int(self, obj_path: str, name: str) -> int:
        return self._attr(obj_path, name, "ui")

    def _attr_flag(self, name: str) -> bool:
        value = self._attr_int("/", name)
        if value > 1:
            raise self._damaged(f"attribute {name}: is {value}, expected 0 or 1")
        return value == 1

    def _attr_str(self, obj_path: str, name: str) -> str:
        return self._attr(obj_path, name, "S")

    def _attr_strs(self, obj_path: str, name: str, max_count: int) -> list[str]:
        return self._attr(obj_path, name, "S", many=True, max_count=max_count)

    def _check(self, allow_partial: bool) -> None:
        try:
            fmt = self._attr_str("/", "format") if "format" in self._file.attrs else ""
        except ResultsDamagedError:
            fmt = ""
        if fmt != FORMAT:
            raise ResultsError(f"{self.path}: not a wedge results file (no format = \"{FORMAT}\")")
        version = self._attr_int("/", "format_version")
        if version > FORMAT_VERSION:
            raise ResultsError(
                f"{self.path}: format_version {version} is newer than this package reads "
                f"({FORMAT_VERSION}); upgrade wedge")
        if version < 1:
            # As wedge inspect: damage (no wedge wrote version 0).
            raise self._damaged("/: format_version 0 does not exist")
        model = self._attr_str("/", "model")  # missing: damage, as in wedge inspect
        if model != "tug_of_war":
            # As wedge inspect: results of another model (or a damaged name) are not read as ours.
            raise ResultsError(f"{self.path}: results of model {model!r}, not 'tug_of_war'")
        self.complete = self._attr_flag("complete")
        done, planned = self._attr_int("/", "runs_done"), self._attr_int("/", "runs_planned")
        if not self.complete:
            # A writer holds the lock while the file is incomplete; HDF5's own file locking
            # usually refuses the open before this, unless it is turned off.
            if _write_lock_held(self.path):
                raise self._busy()
        self._validate()
        if not self.complete and not allow_partial:
            final = str(self.path).removesuffix(".partial")
            if planned == 0:
                raise ResultsPartialError(
                    f"{self.path}: interrupted after {done} runs of a precision-mode run, which "
                    "wedge cannot resume yet; read what it holds with allow_partial=True, or run the "
                    "experiment again")
            from . import _core

            refusal = _core.resume_refusal(str(self.path))
            if refusal:
                # The advice of `wedge inspect`: not --resume, which this build would refuse.
                raise ResultsPartialError(
                    f"{self.path}: interrupted after {done} of {planned} runs, and this build cannot "
                    f"resume it ({refusal}); open it with allow_partial=True to read the runs done so far")
            command = _resume_command(self._attr_str("/", "command_line"), final)
            raise ResultsPartialError(
                f"{self.path}: interrupted after {done} of {planned} runs: resume with `{command}` "
                f"(the same experiment and seed; the result equals an uninterrupted run), or open it "
                f"with allow_partial=True to read the runs done so far", command)

    def _validate(self) -> None:
        """Checks everything the package reads, and that what must agree does (the checks of
        ``wedge inspect``): types and shapes; ``points``, /design and the checkpoint agree; each
        point's category counts sum to its runs; the checkpoint (authoritative, as for wedge
        itself) holds runs_done runs, at most runs_planned; a complete file's /summary equals it;
        every /runs column holds the runs done. Raises ResultsDamagedError saying what does not."""
        # Every root attribute wedge inspect reads, with the same rule: one value where the format
        # says one (docs/output-format.md), of the type it says; in inspect's order (with a damaged
        # global heap, which strings HDF5 can read depends on the order they are read in).
        for name in ("model", "model_version", "engine_version", "git_commit", "created", "rng",
                     "command_line", "experiment", "design", "store", "compression"):
            self._attr_str("/", name)
        for name in ("tbb_version", "boost_version", "hdf5_version", "fmt_version"):
            if name in self._file.attrs:
                self._attr_str("/", name)
        for name in ("wall_seconds", "runs_per_second"):
            self._attr("/", name, "f")
        if "arithmetic_version" in self._file.attrs:  # absent from files written before 2026-11-30
            self._attr_int("/", "arithmetic_version")
        compression = self._attr_str("/", "compression")
        if compression not in ("none", "shuffle+deflate"):
            raise self._damaged(f"attribute compression: is '{compression}', expected none or shuffle+deflate")
        # The stored experiment is self-contained TOML (wedge refuses one that names another file).
        try:
            experiment = tomllib.loads(self._attr_str("/", "experiment"))
        except tomllib.TOMLDecodeError as err:
            raise self._damaged(f"attribute experiment: not TOML ({err})") from None
        sweep = experiment.get("sweep")
        if "extends" in experiment:
            raise self._damaged("attribute experiment: it names another experiment file (extends); a stored "
                                "experiment is self-contained and reading a results file opens no other file")
        if isinstance(sweep, dict) and "csv" in sweep:
            raise self._damaged(f"attribute experiment: its list design names a CSV file ({sweep['csv']}); a stored "
                                "experiment is self-contained and reading a results file opens no other file")
        # Names and descriptions hold no control characters (wedge refuses them at load).
        texts = [("description", experiment.get("description"))]
        factions = experiment.get("japan", {}).get("factions", {}) if isinstance(experiment.get("japan"), dict) else {}
        if isinstance(factions, dict):
            texts += [(f"japan.factions.{fid}.name", body.get("name"))
                      for fid, body in factions.items() if isinstance(body, dict)]
        for where, text in texts:
            if isinstance(text, str) and (control := _control_character(text)):
                raise self._damaged(f"attribute experiment: {where}: holds a control character ({control})")
        for name in ("seed", "block_size", "threads"):
            self._attr_int("/", name)
        self._attr_flag("crn")
        points = self._attr_int("/", "points")
        if not 1 <= points <= 0xFFFFFFFF:
            raise self._damaged(f"attribute points: is {points}, expected 1 to {0xFFFFFFFF}")
        planned = self._attr_int("/", "runs_planned")
        replicates = self._attr_int("/", "replicates")
        shards = self._attr_int("/", "shard_count") if "shard_count" in self._file.attrs else 1
        shard = self._attr_int("/", "shard_index") if "shard_index" in self._file.attrs else 0
        if shards == 0 or shard >= shards:
            raise self._damaged(f"attribute shard_index: shard {shard} of {shards} does not exist")
        if replicates > 0 and (planned > points * replicates or (shards == 1 and planned != points * replicates)):
            raise self._damaged(f"attribute runs_planned: is {planned}, but {points} points x {replicates} replicates "
                                f"make {points * replicates}")
        store = self._attr_str("/", "store")
        if store not in ("runs", "summary"):
            raise self._damaged(f"attribute store: is '{store}', expected runs or summary")
        # The design.
        keys = self._attr_strs("/design", "keys", 10_000)
        if len(set(keys)) != len(keys) or "point" in keys:
            raise self._damaged("/design attribute keys: a swept key is named twice or is reserved")
        index = self._read("/design/point", (points,))
        if not np.array_equal(index, np.arange(points)):
            p = int(np.flatnonzero(index != np.arange(points))[0])
            raise self._damaged(f"/design/point: entry {p} is {int(index[p])}, expected {p}")
        for key in keys:
            self._dataset(f"/design/{key}", (points,), "f")
        self._keys = keys
        # The fields, as /summary describes them (every link of /summary a hard link first).
        summary = self._group("/summary")
        fields: dict[str, list[Label]] = {}
        continuous: list[str] = []
        bins: dict[str, int] = {}
        for name in list(summary):
            obj = self._object(f"/summary/{name}")
            if not isinstance(obj, h5py.Group) or "kind" not in obj.attrs:
                continue
            kind = self._attr_str(f"/summary/{name}", "kind")
            if kind == "categorical":
                fields[name] = _typed_labels(self._attr_strs(f"/summary/{name}", "categories", 1_000_000))
            elif kind == "continuous":
                continuous.append(name)
                bins[name] = self._attr_int(f"/summary/{name}", "hist_bins")
                for edge in ("hist_min", "hist_max"):  # read by wedge inspect: the same rule
                    self._attr(f"/summary/{name}", edge, "f")
        self._fields, self._continuous = fields, continuous
        # The checkpoint slot the root names: the authoritative state.
        slot = self._attr_int("/", "checkpoint_slot")
        if slot > 1:
            raise self._damaged(f"attribute checkpoint_slot: is {slot}, expected 0 or 1")
        base = f"/checkpoint/{slot}"
        runs = self._read(f"{base}/runs", (points,))
        counts = {}
        for field, cats in fields.items():
            c = self._read(f"{base}/{field}_counts", (points, len(cats)))
            sums = c.sum(axis=1, dtype=np.uint64)
            bad = np.flatnonzero(sums != runs)
            if bad.size:
                p = int(bad[0])
                raise self._damaged(f"{base}/{field}_counts: point {p}: sums to {int(sums[p])}, expected {int(runs[p])} runs")
            counts[field] = c
        cont = {}
        for field in continuous:
            cont[field] = {"n": self._read(f"{base}/{field}_n", (points,))}
            for k in ("mean", "m2", "min", "max"):
                cont[field][k] = self._read(f"{base}/{field}_{k}", (points,), "f")
            histogram = self._read(f"{base}/{field}_histogram", (points, bins[field] + 2))
            sums = histogram.sum(axis=1, dtype=np.uint64)
            bad = np.flatnonzero(sums != runs)
            if bad.size:
                p = int(bad[0])
                raise self._damaged(f"{base}/{field}_histogram: point {p}: sums to {int(sums[p])}, expected {int(runs[p])} runs")
            bad = np.flatnonzero(cont[field]["n"] != runs)
            if bad.size:
                p = int(bad[0])
                raise self._damaged(f"{base}/{field}_n: point {p}: {int(cont[field]['n'][p])} values, expected one per "
                                    f"run ({int(runs[p])})")
        done = int(runs.sum(dtype=object))
        slot_done = self._attr_int(base, "runs_done")
        if done != slot_done:
            raise self._damaged(f"{base}: the points' runs add up to {done}, the slot's runs_done is {slot_done}")
        if planned > 0 and done > planned:
            raise self._damaged(f"{base}: runs_done {done} is more than the {planned} runs planned")
        if self.complete and planned > 0 and done != planned:
            raise self._damaged(f"{base}: the file says complete but holds {done} of {planned} planned runs")
        self._cache = (runs, counts, cont)
        if self.complete:
            self._check_summary(points, runs, counts, cont)
        # The per-run records: every column (any link of /runs) checked; the ones read hold the runs done.
        if store == "runs":
            group = self._group("/runs")
            for name in list(group):
                kind = "f" if name in continuous else "u"
                ds = self._dataset(f"/runs/{name}", kind=kind, whole=False)
                if ds.ndim != 1 or (ds.shape[0] < done or (self.complete and ds.shape[0] != done)):
                    raise self._damaged(f"/runs/{name}: holds {ds.shape[0] if ds.ndim == 1 else list(ds.shape)} records, "
                                        f"{done} runs are done")
                if name in fields:
                    numeric = bool(fields[name]) and isinstance(fields[name][0], int)
                    encoding = self._attr_str(f"/runs/{name}", "encoding")
                    if encoding != ("value" if numeric else "index"):
                        raise self._damaged(f"/runs/{name}: attribute encoding: expected "
                                            f"'{'value' if numeric else 'index'}'")
                    if _typed_labels(self._attr_strs(f"/runs/{name}", "categories", 1_000_000)) != fields[name]:
                        raise self._damaged(f"/runs/{name}: attribute categories: the categories differ from /summary's")
            for name in ("point", "replicate", *fields, *continuous):
                if name not in group:
                    raise self._damaged(f"/runs/{name}: missing")
        # The per-round histories (--store rounds): checked as /runs is (output/rounds.hpp, check_rounds).
        if self._file.get("rounds", getlink=True) is not None or "store_rounds" in self._file.attrs:
            self._check_rounds(done)

    def _check_rounds(self, done: int) -> None:
        """/rounds: a group reached by a hard link whose every link is a hard link to a 1-D dataset
        of numbers stored in the file (no external or virtual storage, no unknown filter);
        run_begin (unsigned) holds at least the runs done (a complete file: exactly), the columns of
        a complete file hold as many rows as each other, size_column names a /runs column."""
        if "store_rounds" in self._file.attrs and self._attr_int("/", "store_rounds") != 1:
            raise self._damaged("attribute store_rounds: expected 1")
        group = self._group("/rounds")
        size_column = self._attr_str("/rounds", "size_column")
        if "runs" not in self._file or size_column not in self._file["runs"]:
            raise self._damaged(f"/rounds: attribute size_column names /runs/{size_column}, which the file does not hold")
        rows = set()
        for name in list(group):
            ds = self._dataset(f"/rounds/{name}", kind="u" if name == "run_begin" else "", whole=False)
            if ds.ndim != 1:
                raise self._damaged(f"/rounds/{name}: has shape {list(ds.shape)}, expected a list")
            if name == "run_begin":
                if ds.shape[0] < done or (self.complete and ds.shape[0] != done):
                    raise self._damaged(f"/rounds/run_begin: holds {ds.shape[0]} runs, {done} runs are done")
            else:
                rows.add(ds.shape[0])
        for name in ("run_begin", "round"):
            if name not in group:
                raise self._damaged(f"/rounds/{name}: missing")
        if self.complete and len(rows) > 1:
            raise self._damaged("/rounds: its columns hold different numbers of rows")

    def _check_summary(self, points: int, runs: np.ndarray, counts: dict, cont: dict) -> None:
        """A complete file's /summary must say what its checkpoint says, number for number."""
        def same(path: str, stored: np.ndarray, expected: np.ndarray) -> None:
            if not np.array_equal(stored.view(np.uint8), np.ascontiguousarray(expected).view(np.uint8)):
                bad = np.argwhere(stored != expected)
                where = f"point {int(bad[0][0])}" + (f", column {int(bad[0][1])}" if stored.ndim == 2 and len(bad) else "") \
                    if len(bad) else "its bits"
                raise self._damaged(f"{path}: {where} disagrees with the checkpoint")

        same("/summary/runs", self._read("/summary/runs", (points,)).astype(np.uint64), runs.astype(np.uint64))
        for field, c in counts.items():
            base = f"/summary/{field}"
            same(f"{base}/counts", self._read(f"{base}/counts", c.shape).astype(np.uint64), c.astype(np.uint64))
            with np.errstate(invalid="ignore", divide="ignore"):
                p = np.where(runs[:, None] > 0, c / np.where(runs > 0, runs, 1)[:, None].astype(float), 0.0)
            same(f"{base}/p", self._read(f"{base}/p", c.shape, "f").astype(np.float64), p.astype(np.float64))
        for field, s in cont.items():
            base = f"/summary/{field}"
            same(f"{base}/n", self._read(f"{base}/n", (points,)).astype(np.uint64), s["n"].astype(np.uint64))
            for k in ("mean", "m2", "min", "max"):
                same(f"{base}/{k}", self._read(f"{base}/{k}", (points,), "f").astype(np.float64),
                     s[k].astype(np.float64))

    # -- context manager -------------------------------------------------------------------
    def close(self) -> None:
        """Closes the file (per-run Datasets of :meth:`to_xarray` cannot read after this)."""
        self._file.close()

    def __enter__(self) -> Results:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"<wedge.Results {self.path.name}: {self.attrs['model']} v{self.attrs['model_version']}, "
                f"{self.attrs['points']} point(s), {self.attrs['runs_done']} runs"
                f"{'' if self.complete else ', PARTIAL'}>")

    # -- metadata ----------------------------------------------------------------------------
    @property
    def attrs(self) -> dict[str, Any]:
        """The root attributes (strings decoded, numbers as Python ints/floats)."""
        out = {}
        for key, value in self._file.attrs.items():
            if isinstance(value, (bytes, str)):
                out[key] = _text(value)
            elif isinstance(value, np.generic):
                out[key] = value.item()
            else:
                out[key] = value
        return out

    @property
    def arithmetic_version(self) -> int | None:
        """The results arithmetic version of the wedge build that wrote the file (the root
        attribute ``arithmetic_version``, ``output::ARITHMETIC_VERSION``; ``wedge --version``
        prints the build's), or None for a file written before wedge recorded it (2026-11-30).
        Builds of different versions compute runs that differ in their last digits, so
        ``--resume`` and ``wedge merge`` refuse a file whose value is not theirs, or None.
        """
        attrs = self._file.attrs
        return int(self._attr_int("/", "arithmetic_version")) if "arithmetic_version" in attrs else None

    @property
    def format_version(self) -> int:
        """The file's ``format_version`` (1 to the newest this package reads; docs/output-format.md)."""
        return self._attr_int("/", "format_version")

    @property
    def git_commit(self) -> str:
        """``git describe`` of the wedge build that wrote the file (the root attribute
        ``git_commit``; a merged file: the build that merged it)."""
        return self._attr_str("/", "git_commit")

    @property
    def engine_version(self) -> str:
        """The version of the wedge build that wrote the file (the root attribute ``engine_version``)."""
        return self._attr_str("/", "engine_version")

    @property
    def model_version(self) -> str:
        """The model's version (the root attribute ``model_version``, MODEL.md's version; "1")."""
        return self._attr_str("/", "model_version")

    @property
    def seed(self) -> int:
        """The master seed of the run (the root attribute ``seed``; ``--seed``)."""
        return self._attr_int("/", "seed")

    @property
    def precision(self) -> dict[str, Any] | None:
        """Precision mode's outcome, or None for a fixed number of runs (or a file written before
        wedge recorded it): ``{"target": E, "max_runs": N, "reached": bool, "widest_half_width":
        w}``, the ``"precision"`` member of ``wedge run --json``. ``reached`` is False when
        ``--max-runs`` stopped the run first (the results are valid, but less precise than asked).
        """
        attrs = self._file.attrs
        if "precision_target" not in attrs:
            return None
        return {"target": float(attrs["precision_target"]), "max_runs": int(attrs["precision_max_runs"]),
                "reached": bool(int(attrs["precision_reached"])),
                "widest_half_width": float(attrs["precision_widest_half_width"])}

    @property
    def experiment(self) -> dict[str, Any]:
        """The resolved experiment (after extends, --set and defaults) as a dict."""
        return tomllib.loads(_text(self._file.attrs["experiment"]))

    @property
    def description(self) -> str:
        """The experiment's ``description`` ("" if it has none)."""
        return self.experiment.get("description", "")

    @property
    def label(self) -> str:
        """A name for legends and tables: the description, else the file's name without ``.h5``
        (``results/c2.h5`` gives "c2"); never empty."""
        if self.description:
            return self.description
        name = self.path.name.removesuffix(".partial").removesuffix(".h5")
        return name or "baseline"

    @property
    def swept_keys(self) -> list[str]:
        """The swept keys, in design order (empty for a single scenario)."""
        return list(self._keys)

    def _key_dtype(self, key: str) -> np.dtype:
        """The key's parameter type, from the resolved experiment: int64, bool or float64."""
        value: Any = self.experiment
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, bool):
            return np.dtype(bool)
        if isinstance(value, int):
            return np.dtype(np.int64)
        return np.dtype(np.float64)

    def _key_values(self, key: str) -> np.ndarray:
        """One swept key's values per point, in its parameter's type."""
        values = self._file["design"][key][:]
        dtype = self._key_dtype(key)
        if dtype != np.float64 and np.all(np.isfinite(values)) and np.all(values == np.round(values)):
            return values.astype(dtype)
        return values

    @property
    def design(self) -> pd.DataFrame:
        """One row per design point (index ``point``, int64), one column per swept key (integer
        keys as int64, booleans as bool, others float64)."""
        group = self._file["design"]
        data = {key: self._key_values(key) for key in self.swept_keys}
        return pd.DataFrame(data, index=pd.Index(group["point"][:].astype(np.int64), name="point"))

    @property
    def fields(self) -> dict[str, list[Label]]:
        """Categorical fields and their category labels in file order (ints for numeric fields)."""
        return {name: list(labels) for name, labels in self._fields.items()}

    @property
    def continuous_fields(self) -> list[str]:
        """The continuous fields (summarised as moments and histograms)."""
        return list(self._continuous)

    def category(self, field: str, label: Any) -> Label:
        """The label of ``field`` that ``label`` names, by the package's rule (``"2"`` and ``2``
        both give 2 for ``islands_promised``). Raises KeyError for an unknown field or label."""
        if field not in self.fields:
            raise KeyError(f"unknown field {field!r}; valid: {list(self.fields)}")
        labels = self.fields[field]
        if labels and isinstance(labels[0], int) and not isinstance(label, bool):
            try:
                value: Label = int(label)
            except (TypeError, ValueError):
                value = label
        else:
            value = str(label)
        if value not in labels:
            raise KeyError(f"{field} has no category {label!r}; valid: {labels}")
        return value

    # -- summaries ---------------------------------------------------------------------------
    def _state(self):
        """(runs [P], counts {field: [P, C]}, continuous {field: {n, mean, m2, min, max}}), from
        the checkpoint slot the file names (checked when the file was opened; a complete file's
        /summary equals it)."""
        return self._cache

    def categories_in_use(self, field: str) -> np.ndarray:
        """Which categories of ``field`` can occur at each point: a bool array [points, categories].

        The round fields (``rounds``, ``threat_round``, ``shigemitsu_round``,
        ``two_island_round``) stop at the point's ``negotiation.rounds``; every category of the
        other fields can occur. Categories that cannot occur always have count 0.
        """
        labels = self.fields[field]
        points = int(self._file.attrs["points"])
        mask = np.ones((points, len(labels)), dtype=bool)
        if field not in ROUND_FIELDS or self.attrs.get("model") != "tug_of_war":
            return mask
        if "negotiation.rounds" in self.swept_keys:
            rounds = self._key_values("negotiation.rounds").astype(np.int64)
        else:
            rounds = np.full(points, int(self.experiment.get("negotiation", {}).get("rounds", max(labels))))
        return np.asarray(labels, dtype=np.int64)[None, :] <= rounds[:, None]

    def summary(self, fields: Sequence[str] | None = None, all_categories: bool = False) -> pd.DataFrame:
        """A tidy table: one row per point x field x category that can occur.

        Columns: ``point`` (int64), the swept keys by their full names, ``field``, ``category``
        (the label: int for numeric fields, str otherwise), ``count``, ``p``, ``ci_low``,
        ``ci_high`` (95% Wilson interval, as the engine's).

        Parameters
        ----------
        fields : list of str, optional
            The categorical fields (default: all, in file order). Unknown names raise KeyError.
        all_categories : bool
            Also the categories that cannot occur (round numbers beyond ``negotiation.rounds``,
            always count 0): the file's full, padded table (100 or 101 round categories).
        """
        runs, counts, _ = self._state()
        design = self.design
        fields = self._names(fields, "fields")
        wanted = list(self.fields) if fields is None else list(fields)
        unknown = [f for f in wanted if f not in self.fields]
        if unknown:
            raise KeyError(f"unknown field(s) {unknown}; valid: {list(self.fields)}")
        frames = []
        for field in wanted:
            cats = self.fields[field]
            c = counts[field]
            points = np.repeat(np.arange(c.shape[0], dtype=np.int64), c.shape[1])
            k = c.reshape(-1)
            n = np.repeat(runs, c.shape[1])
            low, high = wilson(k, n)
            with np.errstate(invalid="ignore", divide="ignore"):
                p = np.where(n > 0, k / np.where(n > 0, n, 1), 0.0)
            frame = pd.DataFrame({"point": points, "field": field,
                                  "category": np.tile(np.array(cats, dtype=object), c.shape[0]),
                                  "count": k, "p": p, "ci_low": low, "ci_high": high})
            if not all_categories:
                frame = frame[self.categories_in_use(field).reshape(-1)]
            frames.append(frame)
        table = pd.concat(frames, ignore_index=True)
        if len(design.columns):
            table = table.merge(design, left_on="point", right_index=True, how="left")
            table = table[["point", *design.columns, "field", "category", "count", "p", "ci_low", "ci_high"]]
        return table

    def probability(self, field: str, category: Any) -> pd.Series:
        """P(field = category) per design point (a Series indexed by ``point``). ``category`` is a
        label of the field (``"2"`` or ``2`` for a numeric one); KeyError if it has none such."""
        label = self.category(field, category)
        table = self.summary([field], all_categories=True)
        rows = table[table["category"] == label]
        return rows.set_index("point")["p"]

    def stats(self) -> pd.DataFrame:
        """Continuous fields per point: n, mean, variance, sd, min, max."""
        _, _, cont = self._state()
        frames = []
        for field, s in cont.items():
            n = s["n"].astype(float)
            with np.errstate(invalid="ignore", divide="ignore"):
                variance = np.where(n > 1, s["m2"] / np.maximum(n - 1, 1), 0.0)
            frames.append(pd.DataFrame({"point": np.arange(len(n)), "field": field, "n": s["n"],
                                        "mean": s["mean"], "variance": variance, "sd": np.sqrt(variance),
                                        "min": s["min"], "max": s["max"]}))
        return pd.concat(frames, ignore_index=True)

    # -- per-run records ------------------------------------------------------------------------
    @property
    def runs_stored(self) -> int:
        """Per-run records in the file (0 when written with ``--store summary``)."""
        return int(self._file["runs/point"].shape[0]) if "runs" in self._file else 0

    def _runs_group(self) -> h5py.Group:
        if not self._file.id.valid:
            raise ResultsError(f"{self.path}: the file is closed; load the data before closing it")
        if "runs" not in self._file:
            raise ResultsError(f"{self.path}: no per-run records (written with --store summary)")
        return self._file["runs"]

    def _run_columns(self) -> list[str]:
        group = self._runs_group()
        return [name for name, ds in group.items()
                if isinstance(ds, h5py.Dataset) and _text(ds.attrs.get("CLASS", "")) != "DIMENSION_SCALE"]

    def _runs_total(self) -> int:
        """The records that count: all of a complete file's, the checkpoint's of a partial one."""
        if self.complete:
            return self.runs_stored
        return min(int(self._state()[0].sum()), self.runs_stored)

    def _read_column(self, name: str, start: int, stop: int, step: int = 1) -> np.ndarray:
        try:
            return self._runs_group()[name][start:stop:step]
        except OSError as err:
            raise self._damaged(f"/runs/{name} records {start} to {stop - 1} cannot be read ({err})") from None

    def _codes(self, name: str, values: np.ndarray, start: int) -> np.ndarray:
        """The category indices of records of categorical column ``name`` (stored by index, or by
        the category's own number); a stored value that is no category of the field is damage,
        never a missing value."""
        labels = self._fields[name]
        values = np.asarray(values).astype(np.int64)
        if labels and isinstance(labels[0], int):  # stored as the category's number
            order = np.argsort(labels)
            sorted_labels = np.asarray(labels, dtype=np.int64)[order]
            at = np.clip(np.searchsorted(sorted_labels, values), 0, len(labels) - 1)
            bad = np.flatnonzero(sorted_labels[at] != values)
            codes = order[at]
        else:
            bad = np.flatnonzero((values < 0) | (values >= len(labels)))
            codes = values
        if bad.size:
            i = int(bad[0])
            raise self._damaged(f"/runs/{name}: record {start + i} holds {int(values[i])}, which is no category of {name}")
        return codes

    # -- argument checks (as wedge.simulate's: the argument, its value and the valid range) -----
    @staticmethod
    def _names(value: Any, name: str) -> list[str] | None:
        """A list of names (columns, fields), or None; TypeError for a bare string or another type
        (a string would be read letter by letter)."""
        if value is None:
            return None
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable) \
                or not all(isinstance(v, str) for v in value):
            raise TypeError(f"{name} must be a list of names (e.g. [\"format\"]), not {type(value).__name__}"
                            + (f" {value!r}" if isinstance(value, str) else ""))
        return list(value)

    @staticmethod
    def _indices(value: Any, name: str, count: int, what: str) -> np.ndarray | None:
        """Integers in [0, count - 1] (design points or replicates), or None. TypeError for
        anything but an iterable of integers; IndexError naming the first one outside."""
        if value is None:
            return None
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise TypeError(f"{name} must be a list of {what} indices (integers in [0, {count - 1}]), "
                            f"not {type(value).__name__}")
        items = list(value)
        for v in items:
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
                raise TypeError(f"{name} must be a list of {what} indices (integers in [0, {count - 1}]), "
                                f"not a list holding {type(v).__name__} {v!r}")
        for v in items:
            if not 0 <= int(v) < count:
                valid = f"valid: 0 to {count - 1}" if count > 0 else "it holds none"
                raise IndexError(f"{name} = {items if len(items) <= 8 else '[...]'}: {what} {int(v)} is not in "
                                 f"the file ({count} {what}{'' if count == 1 else 's'}; {valid})")
        return np.asarray(sorted(set(int(v) for v in items)), dtype=np.int64)

    def _points(self, points: Any) -> np.ndarray | None:
        return self._indices(points, "points", int(self._file.attrs["points"]), "point")

    @staticmethod
    def _chunk_size(chunk_size: Any) -> int:
        if isinstance(chunk_size, (bool, np.bool_)) or not isinstance(chunk_size, numbers.Integral):
            raise TypeError(f"chunk_size must be an integer >= 1, not {type(chunk_size).__name__}")
        if chunk_size < 1:
            raise ValueError(f"chunk_size = {int(chunk_size)}: must be an integer >= 1")
        return int(chunk_size)

    def iter_runs(self, columns: Sequence[str] | None = None, points: Iterable[int] | None = None,
                  chunk_size: int = 1 << 20) -> Iterator[pd.DataFrame]:
        """Yields DataFrames of per-run records, ``chunk_size`` rows at a time (lazily).

        Columns ``point`` and ``replicate`` come first; categorical fields are pandas Categoricals
        over every category of the field (labels by the package's rule); continuous fields as
        stored (float32). Raises ResultsError for a file without records, KeyError for unknown
        columns, ResultsDamagedError for records that cannot be read (a chunk's checksum fails).
        The arguments are checked at once (before the first chunk): TypeError for a wrong type
        (``columns="format"``: a list is needed), IndexError for a point outside the design
        (``points=[5]`` in a 1-point file), ValueError for ``chunk_size`` < 1.
        """
        self._runs_group()
        columns = self._names(columns, "columns")
        wanted = self._points(points)
        chunk_size = self._chunk_size(chunk_size)
        available = self._run_columns()
        names = ["point", "replicate", *[c for c in available if c not in ("point", "replicate")]]
        if columns is not None:
            unknown = [c for c in columns if c not in available]
            if unknown:
                raise KeyError(f"unknown column(s) {unknown}; valid: {available}")
            names = list(dict.fromkeys(["point", "replicate", *columns]))
        return self._iter_runs(names, wanted, chunk_size)

    def _iter_runs(self, names: list[str], wanted: np.ndarray | None, chunk_size: int) -> Iterator[pd.DataFrame]:
        total = self._runs_total()
        for start in range(0, total, chunk_size):
            stop = min(start + chunk_size, total)
            data = {}
            for name in names:
                values = self._read_column(name, start, stop)
                if name in self._fields:
                    cats = self._fields[name]
                    codes = self._codes(name, values, start)
                    values = pd.Categorical.from_codes(codes, categories=cats)
                elif name in ("point", "replicate"):
                    values = values.astype(np.int64)
                data[name] = values
            frame = pd.DataFrame(data)
            if wanted is not None:
                frame = frame[frame["point"].isin(wanted)]
            yield frame

    def runs(self, columns: Sequence[str] | None = None, points: Iterable[int] | None = None,
             chunk_size: int = 1 << 20) -> pd.DataFrame:
        """Per-run records as one DataFrame (read in chunks; see :meth:`iter_runs`, which says
        what each argument may be and what a wrong one raises)."""
        frames = list(self.iter_runs(columns, points, chunk_size))
        if not frames:
            return pd.DataFrame()
        return pd.concat(frames, ignore_index=True)

    # -- per-round histories (--store rounds) -----------------------------------------------------
    @property
    def has_rounds(self) -> bool:
        """Whether the file holds every run's rounds (``wedge run --store rounds``: ``/rounds``)."""
        return self._file.get("rounds", getlink=True) is not None  # checked when opened (_check_rounds)

    def _rounds_group(self) -> h5py.Group:
        if not self._file.id.valid:
            raise ResultsError(f"{self.path}: the file is closed; load the data before closing it")
        if not self.has_rounds:
            store = _text(self._file.attrs.get("store", "?"))
            raise ResultsError(
                f"{self.path}: no per-round histories (written with --store {store}); write them with "
                "`wedge run EXPERIMENT --store rounds --out FILE.h5`")
        return self._file["rounds"]

    @property
    def round_columns(self) -> list[str]:
        """The columns of ``/rounds`` (one value per round of a run), in file order; raises
        ResultsError for a file without them."""
        group = self._rounds_group()
        names = [name for name, ds in group.items()
                 if isinstance(ds, h5py.Dataset) and name != "run_begin"
                 and _text(ds.attrs.get("CLASS", "")) != "DIMENSION_SCALE"]
        return sorted(names, key=lambda n: (ROUND_COLUMNS.index(n) if n in ROUND_COLUMNS else len(ROUND_COLUMNS), n))

    @staticmethod
    def _labelled(ds: h5py.Dataset, values: np.ndarray) -> Any:
        """A column's stored values by the package's label rule (see :meth:`iter_runs`)."""
        if "categories" not in ds.attrs:
            return values
        cats = _typed_labels(ds.attrs["categories"])
        if _text(ds.attrs.get("encoding", "")) == "index":
            return pd.Categorical.from_codes(values.astype(np.int64), categories=cats)
        return pd.Categorical(values.astype(np.int64), categories=cats)

    def iter_rounds(self, points: Iterable[int] | None = None, runs: int | Iterable[int] | None = None,
                    columns: Sequence[str] | None = None, run_fields: Sequence[str] = (),
                    chunk_size: int = 1 << 18) -> Iterator[pd.DataFrame]:
        """Yields the per-round histories as tidy DataFrames, reading ``chunk_size`` runs at a time
        (lazily: only the rows of the selected runs' chunk are read). See :meth:`rounds`."""
        group = self._rounds_group()
        available = self.round_columns
        columns = self._names(columns, "columns")
        run_fields = self._names(run_fields, "run_fields") or []
        wanted = self._points(points)
        chunk_size = self._chunk_size(chunk_size)
        names = [c for c in available if c != "round"] if columns is None else list(columns)
        unknown = [c for c in names if c not in available]
        if unknown:
            raise KeyError(f"unknown round column(s) {unknown}; valid: {available}")
        unknown = [c for c in run_fields if c not in self._run_columns()]
        if unknown:
            raise KeyError(f"unknown run field(s) {unknown}; valid: {self._run_columns()}")
        # Replicates run from 0 to the largest point's runs - 1.
        replicates_per_point = int(np.max(self._state()[0], initial=0))
        if runs is None:
            replicates, below = None, None
        elif isinstance(runs, (numbers.Integral)) and not isinstance(runs, (bool, np.bool_)):
            if runs < 1:
                raise ValueError(f"runs = {int(runs)}: must be an integer >= 1 (keeps replicates 0 to runs - 1 of "
                                 f"each point) or a list of replicates in [0, {replicates_per_point - 1}]")
            replicates, below = None, int(runs)
        elif isinstance(runs, (str, bytes, bool, np.bool_)) or not isinstance(runs, Iterable):
            raise TypeError(f"runs must be an integer >= 1 or a list of replicate indices, not {type(runs).__name__}")
        else:
            replicates, below = self._indices(runs, "runs", replicates_per_point, "replicate"), None
        return self._iter_rounds(group, names, list(run_fields), wanted, replicates, below, chunk_size)

    def _iter_rounds(self, group: h5py.Group, names: list[str], run_fields: list[str], wanted: np.ndarray | None,
                     replicates: np.ndarray | None, below: int | None, chunk_size: int) -> Iterator[pd.DataFrame]:
        size_column = _text(group.attrs.get("size_column", "rounds"))
        total = self._runs_total()
        index = group["run_begin"]
        if index.shape[0] < total:
            raise self._damaged(f"/rounds/run_begin holds {index.shape[0]} runs, the file {total}")
        row_count = min(group[name].shape[0] for name in ["round", *names])
        for start in range(0, total, chunk_size):
            stop = min(start + chunk_size, total)
            point = self._read_column("point", start, stop).astype(np.int64)
            replicate = self._read_column("replicate", start, stop).astype(np.int64)
            keep = np.ones(stop - start, dtype=bool)
            if wanted is not None:
                keep &= np.isin(point, wanted)
            if below is not None:
                keep &= replicate < below
            if replicates is not None:
                keep &= np.isin(replicate, replicates)
            chosen = np.flatnonzero(keep)
            if chosen.size == 0:
                continue
            first, last = int(chosen[0]), int(chosen[-1])
            sizes = self._read_column(size_column, start + first, start + last + 1).astype(np.int64)
            try:
                begin = index[start + first:start + last + 1].astype(np.int64)
            except OSError as err:
                raise self._damaged(f"/rounds/run_begin cannot be read ({err})") from None
            lo, hi = int(begin[0]), int(begin[-1] + sizes[-1])
            if np.any(begin[1:] != begin[:-1] + sizes[:-1]) or hi > row_count:
                raise self._damaged(f"/rounds/run_begin disagrees with /runs/{size_column} "
                                    f"(runs {start + first} to {start + last})")
            row_keep = np.repeat(keep[first:last + 1], sizes)
            data: dict[str, Any] = {
                "point": np.repeat(point[first:last + 1], sizes)[row_keep],
                "replicate": np.repeat(replicate[first:last + 1], sizes)[row_keep],
            }
            for name in ["round", *names]:
                try:
                    values = group[name][lo:hi][row_keep]
                except OSError as err:
                    raise self._damaged(f"/rounds/{name} rows {lo} to {hi - 1} cannot be read ({err})") from None
                data[name] = values.astype(np.int64) if name == "round" else self._labelled(group[name], values)
            for name in run_fields:
                values = self._read_column(name, start + first, start + last + 1)
                data[name] = self._labelled(self._runs_group()[name], np.repeat(values, sizes)[row_keep])
            yield pd.DataFrame(data)

    def rounds(self, points: Iterable[int] | None = None, runs: int | Iterable[int] | None = None,
               columns: Sequence[str] | None = None, run_fields: Sequence[str] = (),
               chunk_size: int = 1 << 18) -> pd.DataFrame:
        """Every selected run's rounds as one tidy DataFrame: one row per round of a run.

        Columns: ``point``, ``replicate``, ``round`` (int64; a run's rounds are 1, 2, ... up to its
        ``rounds`` in :meth:`runs`), then the round columns (docs/output-format.md, "/rounds"):
        ``alignment`` (A after the round; float32, as stored), ``islands_offered`` (T),
        ``straits_clause`` and ``alliance_clause`` (S and N, 0/1), ``declaration_available`` (0/1),
        ``dulles`` ("none", "reward", "reward_threat"), ``support_treaty`` and
        ``support_declaration`` (the realized supports W_t and W_d, float32; W_d is NaN when no
        declaration was on the table), ``fisheries`` (F, 0/1), ``sg_min_islands`` (m_SG). Categorical
        columns are pandas Categoricals over every category, labelled by the package's rule (ints
        for numeric categories, strings otherwise), as in :meth:`runs`. Rows come in the order of
        the runs in the file, each run's rounds in order.

        Parameters
        ----------
        points : iterable of int, optional
            Design points to keep (default: all).
        runs : int or iterable of int, optional
            Replicates to keep within each point: an int n keeps replicates 0 ... n - 1, an iterable
            the replicates it lists (default: all).
        columns : list of str, optional
            Round columns to read (default: all); ``round`` always comes.
        run_fields : list of str
            Fields of the run record (:meth:`runs`' columns, e.g. ``["format", "alliance"]``) to
            repeat on each of its rounds, e.g. to split histories by how they ended.
        chunk_size : int
            Runs read at a time (memory is bounded by one chunk's rows).

        Raises
        ------
        ResultsError
            The file holds no rounds (written without ``--store rounds``).
        KeyError
            An unknown column or run field.
        TypeError
            An argument of the wrong type (``columns="alignment"``: a list is needed).
        IndexError
            A point outside the design (``points=[5]`` in a 1-point file) or a replicate the file
            does not hold, naming the argument and the valid range.
        ValueError
            ``runs`` (an int) or ``chunk_size`` below 1.
        ResultsDamagedError
            The index disagrees with the runs' round counts, or a chunk cannot be read.
        """
        frames = list(self.iter_rounds(points, runs, columns, run_fields, chunk_size))
        if not frames:
            names = ["point", "replicate", "round",
                     *(c for c in (self.round_columns if columns is None else columns) if c != "round"),
                     *(run_fields or [])]
            return pd.DataFrame({name: pd.Series(dtype=np.int64) for name in names})
        return pd.concat(frames, ignore_index=True)

    # -- xarray ----------------------------------------------------------------------------------
    def to_xarray(self, runs: bool = False, all_categories: bool = False) -> xarray.Dataset:
        """The results as an xarray.Dataset.

        Parameters
        ----------
        runs : bool
            False (default): the summaries, with dimension ``point`` (the swept keys as
            coordinates) and one ``<field>_category`` dimension per categorical field
            (``<field>_count``, ``_p``, ``_ci_low``, ``_ci_high``), plus ``runs`` and the
            continuous fields' ``_n``, ``_mean``, ``_min``, ``_max`` over ``point``.
            True: the per-run records, lazily: dimension ``run``, one variable per field (labels by
            the package's rule; continuous as stored, float32), coordinates ``point``,
            ``replicate`` and the swept keys of each run's point. Nothing is read until values
            are used (``.values``, ``.load()``, a reduction), and then only the selected runs, so
            files larger than memory can be sliced (``ds.isel(run=slice(0, 10**6))``). It reads
            from this open file: load what you need before :meth:`close`.
        all_categories : bool
            Summaries only: keep the categories that cannot occur at any point (round numbers
            beyond the largest ``negotiation.rounds``), as :meth:`summary`.

        Raises
        ------
        ResultsError
            ``runs=True`` on a file written with ``--store summary``.
        """
        if runs:
            return self._runs_xarray()
        import xarray as xr

        n, counts, cont = self._state()
        design = self.design
        coords: dict[str, Any] = {"point": np.arange(len(n), dtype=np.int64)}
        for key in design.columns:
            coords[key] = ("point", design[key].to_numpy())
        data_vars: dict[str, Any] = {"runs": ("point", n)}
        for field, cats in self.fields.items():
            dim = f"{field}_category"
            keep = np.ones(len(cats), dtype=bool) if all_categories else self.categories_in_use(field).any(axis=0)
            labels = np.asarray(cats, dtype=np.int64 if cats and isinstance(cats[0], int) else object)
            coords[dim] = labels[keep]
            c = counts[field][:, keep]
            low, high = wilson(c, n[:, None])
            with np.errstate(invalid="ignore", divide="ignore"):
                p = np.where(n[:, None] > 0, c / np.maximum(n[:, None], 1), 0.0)
            data_vars[f"{field}_count"] = (("point", dim), c)
            data_vars[f"{field}_p"] = (("point", dim), p)
            data_vars[f"{field}_ci_low"] = (("point", dim), low)
            data_vars[f"{field}_ci_high"] = (("point", dim), high)
        for field, s in cont.items():
            for k in ("n", "mean", "min", "max"):
                data_vars[f"{field}_{k}"] = ("point", s[k])
        attrs = {k: v for k, v in self.attrs.items() if isinstance(v, (str, int, float))}
        return xr.Dataset(data_vars, coords=coords, attrs=attrs)

    def _runs_xarray(self) -> xarray.Dataset:
        import xarray as xr
        from xarray.core import indexing

        group = self._runs_group()
        total = self._runs_total()
        keys = {key: self._key_values(key) for key in self.swept_keys}

        def lazy(array: _RunColumn) -> Any:
            return indexing.LazilyIndexedArray(array)

        data_vars: dict[str, Any] = {}
        coords: dict[str, Any] = {}
        for name in self._run_columns():
            ds = group[name]
            column_attrs = {"description": _text(ds.attrs.get("description", ""))}
            if "units" in ds.attrs:
                column_attrs["units"] = _text(ds.attrs["units"])
            labels = self._fields.get(name)
            if labels is not None:
                # Labels by the package's rule, each record checked to hold a category.
                dtype = np.int64 if labels and isinstance(labels[0], int) else object
                column = _RunColumn(self, name, total, lookup=np.asarray(labels, dtype=dtype), categorical=True)
            elif name in ("point", "replicate"):
                column = _RunColumn(self, name, total, dtype=np.dtype(np.int64))
            else:
                column = _RunColumn(self, name, total)
            target = coords if name in ("point", "replicate") else data_vars
            target[name] = xr.Variable(("run",), lazy(column), column_attrs)
        for key, values in keys.items():
            coords[key] = xr.Variable(("run",), lazy(_RunColumn(self, "point", total, lookup=values)))
        attrs = {k: v for k, v in self.attrs.items() if isinstance(v, (str, int, float))}
        return xr.Dataset(data_vars, coords=coords, attrs=attrs)


try:
    from xarray.backends import BackendArray as _BackendArray
except ImportError:  # xarray is optional for everything but to_xarray()
    _BackendArray = object  # type: ignore[assignment,misc]


class _RunColumn(_BackendArray):  # type: ignore[misc,valid-type]
    """One /runs column as a lazily indexed array (xarray's backend interface): reads only the
    selected records, then maps them through ``lookup`` (category labels, or a swept key's value
    per point) or casts them to ``dtype``."""

    def __init__(self, results: Results, name: str, length: int, lookup: np.ndarray | None = None,
                 dtype: np.dtype | None = None, categorical: bool = False):
        self.results = results
        self.name = name
        self.shape = (length,)
        self.lookup = lookup
        self.categorical = categorical
        stored = results._file["runs"][name].dtype
        self.dtype = lookup.dtype if lookup is not None else (dtype or stored)

    def __getitem__(self, key):
        from xarray.core import indexing

        return indexing.explicit_indexing_adapter(key, self.shape, indexing.IndexingSupport.BASIC, self._read)

    def _read(self, key: tuple) -> np.ndarray:
        # Basic indexing only: an integer or a slice with a positive step (xarray turns other
        # selections into these and finishes them in memory).
        (index,) = key
        if isinstance(index, slice):
            start, stop, step = index.indices(self.shape[0])
            values = self.results._read_column(self.name, start, max(start, stop), step) if stop > start else \
                self.results._read_column(self.name, 0, 0)
        else:
            position = int(index)
            values = self.results._read_column(self.name, position, position + 1)[0]
        if self.categorical:
            start = index.indices(self.shape[0])[0] if isinstance(index, slice) else int(index)
            return self.lookup[self.results._codes(self.name, np.atleast_1d(values), start)].reshape(np.shape(values))
        if self.lookup is not None:
            # A swept key's value of each record's point.
            codes = np.asarray(values, dtype=np.int64)
            if np.any((codes < 0) | (codes >= len(self.lookup))):
                raise self.results._damaged(f"/runs/{self.name}: a record names a point outside the design")
            return self.lookup[codes]
        return np.asarray(values).astype(self.dtype, copy=False)


def open(path: PathLike, allow_partial: bool = False) -> Results:  # noqa: A001 - the package's entry point
    """Opens a results file; see :class:`Results` (its parameters and the errors it raises)."""
    return Results(path, allow_partial=allow_partial)
