"""Where a sweep's tasks run: in the driver, in a local process pool, or on a Dask cluster.

Every executor takes tasks lazily from an iterator and keeps at most ``slots`` of them in flight,
so the driver never holds more than a few task descriptions, and hands each finished task's
report (a few records; the rows are already in the task's part on disk) to a callback as soon as
it arrives. Tasks run the same function, :func:`urbsim.sweep.runs.execute_task`, which sets
the Numba thread count for its runs: results do not depend on the executor, the number of
workers or the number of threads.

A task that fails outside a run (a worker that died, a part that could not be written) is an
*infrastructure* failure: its runs stay unfinished (``--resume`` runs them again) and the
executor goes on with the others where it can. A local process pool whose worker died is
broken for good: the sweep stops, resumable. On Dask, a task whose worker died is resubmitted
up to :data:`MAX_RETRIES` times (recorded in its runs' records).

Workers die with their driver, whatever signal ended it (SIGKILL included): each worker process
(and the pool's forkserver) asks Linux for SIGKILL when its parent dies
(``prctl(PR_SET_PDEATHSIG)``) and, on any system, a watchdog thread ends the worker when its
parent process changes (the parent died and the worker was re-parented).
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.metadata
import multiprocessing
import os
import platform
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

from urbsim.errors import UrbsimError
from urbsim.sweep.runs import TaskReport, TaskSpec, execute_task

ExecutorKind = Literal["serial", "local", "dask"]
OnReport = Callable[[TaskReport], None]


#: Resubmissions of a Dask task whose worker died (then its runs stay unfinished).
MAX_RETRIES: Final[int] = 2
#: Packages whose versions the driver and every Dask worker must share: the results depend on
#: them (urbsim itself, the numerical stack, the Parquet writer).
KEY_PACKAGES: Final[tuple[str, ...]] = (
    "urbsim", "numpy", "numba", "pandas", "pyarrow", "scipy", "SALib", "mesa", "pydantic"
)  # fmt: skip
#: Environment variable naming the driver's pid to the forkserver it starts.
_DRIVER_ENV: Final[str] = "URBSIM_SWEEP_DRIVER_PID"
#: Seconds between two looks of the watchdog at the worker's parent.
_WATCH_SECONDS: Final[float] = 0.5
_PR_SET_PDEATHSIG: Final[int] = 1


class WorkersLost(RuntimeError):
    """The process pool lost a worker (killed, out of memory): the sweep cannot go on."""


class WorkerEnvironmentError(UrbsimError):
    """Dask workers run other versions of urbsim or its key packages than the driver."""


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# ---------------------------------------------------------------------------------------------
# Workers die with their driver
# ---------------------------------------------------------------------------------------------
def die_with_parent(parent: int | None = None) -> bool:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux only).

    Returns whether the request was made. The parent is the process that started this one
    (``parent``, default the current one): the driver for spawned workers and Dask's, the
    forkserver for forkserver workers (which itself dies with the driver). If the parent died
    before the request, the signal would never come: the process exits at once.
    """
    if parent is None:
        parent = os.getppid()
        if parent == 1:  # re-parented to init already
            os._exit(1)
    prctl = _prctl()
    if prctl is None:
        return False
    ok = prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    if os.getppid() != parent:
        os._exit(1)
    return ok


def _prctl() -> Callable[..., int] | None:
    """The C library's ``prctl`` (Linux), or None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def parent_death_hook(parent: int) -> Callable[[], None]:
    """A ``preexec_fn`` for :mod:`subprocess`: the child asks the kernel for SIGKILL when
    ``parent`` (the caller) dies, and exits at once if it has died already.

    ``prctl`` is looked up here, in the parent, so that the child makes one call between fork
    and exec. A parent that is init itself (a container's first process) is fine: only a
    change of parent ends the child.
    """
    prctl = _prctl()

    def hook() -> None:
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return hook


def start_watchdog(parent: int | None = None) -> threading.Thread:
    """A daemon thread that ends this process once its parent is gone.

    Portable fallback of :func:`die_with_parent`: when the parent dies, the kernel re-parents
    this process, so ``os.getppid()`` changes; the thread then exits the process at once
    (``os._exit``: a worker holds nothing that must be flushed; its part is written through a
    rename, so a half-written part is only a temporary file).
    """
    parent = os.getppid() if parent is None else parent

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(_WATCH_SECONDS)

    thread = threading.Thread(target=watch, name="urbsim-parent-watchdog", daemon=True)
    thread.start()
    return thread


def _arm_forkserver() -> None:
    # Imported as the forkserver's preload module: the forkserver is the driver's child (the
    # driver set _DRIVER_ENV before starting it). It also exits by itself once the driver's end
    # of its "alive" pipe closes, but only between two requests; the kernel's signal is
    # immediate. No watchdog thread here: the forkserver forks, and forking a multi-threaded
    # process is unsafe.
    driver = os.environ.get(_DRIVER_ENV)
    forkserver = "multiprocessing.forkserver" in sys.modules and sys.argv[:1] == ["-c"]
    if not forkserver or driver is None or not driver.isdigit():
        return
    if os.getppid() == int(driver):
        die_with_parent(int(driver))
    elif not process_exists(int(driver)) or os.getppid() == 1:
        # The driver died while this forkserver was importing its preload: a fork request it
        # sent may still be queued, and the child would hold the forkserver's "alive" pipe
        # open, keeping both alive for ever. Nobody needs this forkserver: end it.
        os._exit(1)


def process_exists(pid: int) -> bool:
    """Whether a process runs.

    Parameters
    ----------
    pid : int
        Process id.

    Returns
    -------
    bool
        True while the process runs; False once it has exited, including a zombie (dead but not
        yet reaped by its parent), which ``os.kill(pid, 0)`` alone would count as alive.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


_arm_forkserver()


def default_layout(kind: ExecutorKind, workers: int | None, threads: int | None) -> tuple[int, int]:
    """Workers and Numba threads per worker: by default workers x threads = cores.

    serial: one worker (the driver) with all cores as threads unless told. local and dask: as
    many workers as cores with one thread each unless told; given one of the two, the other
    fills the cores.
    """
    cores = available_cores()
    if kind == "serial":
        return 1, threads or cores
    if workers is None and threads is None:
        return cores, 1
    if workers is None:
        return max(1, cores // threads), threads  # type: ignore[operator,return-value]
    if threads is None:
        return workers, max(1, cores // workers)
    return workers, threads


@dataclass
class Outcome:
    """Infrastructure failures of an executor run: task key and message."""

    errors: list[tuple[str, str]] = field(default_factory=list)


class SerialExecutor:
    """Runs the tasks one after the other in the driver process."""

    name = "serial"

    def __init__(self, threads: int) -> None:
        self.workers = 1
        self.threads = threads

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def run(self, tasks: Iterator[TaskSpec], on_report: OnReport) -> Outcome:
        """Run every task; report each as it finishes."""
        outcome = Outcome()
        for task in tasks:
            try:
                report = execute_task(task)
            except Exception as exc:  # a part that cannot be written
                outcome.errors.append((task.key, f"{type(exc).__name__}: {exc}"))
                continue
            on_report(report)
        return outcome


def _init_worker(blas_threads: int | None = None, environ: dict[str, str] | None = None) -> None:
    if environ is not None:
        # The driver's environment when it made the pool: a forkserver worker would otherwise
        # have the forkserver's, copied when an earlier pool of this process started it (a
        # URBSIM_CACHE_DIR set since would not reach the runs). Set before anything reads it.
        os.environ.clear()
        os.environ.update(environ)
    # Ctrl-C reaches the whole process group; the driver handles it (lets running tasks finish
    # and write their parts, cancels the rest), so workers must not die mid-task on it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A worker blocks on the pool's call queue, whose write end every worker also holds: it
    # would never see its driver die. End it with its parent, by signal and by watchdog.
    die_with_parent()
    start_watchdog()
    if blas_threads is not None:
        # Imported here: only pools that fit emulators (scikit-learn's BLAS) ask for it.
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=blas_threads)


def worker_pool(
    workers: int, start_method: str | None = None, blas_threads: int | None = None
) -> ProcessPoolExecutor:
    """A process pool whose workers, and forkserver, end with the process that made it.

    Every pool urbsim starts goes through here (the sweep's :class:`PoolExecutor`, the
    calibration's emulator fits): its workers have this process's environment as it is now
    (as spawned processes would), ignore Ctrl-C (the driver handles it) and die
    with their parent by signal and by watchdog; with ``forkserver`` (the default where there
    is one; never ``fork``, see :class:`PoolExecutor`) the forkserver is armed to die with this
    process too, or it and its workers would outlive a killed driver.

    Parameters
    ----------
    workers
        Number of worker processes.
    start_method
        ``"forkserver"`` or ``"spawn"``; default forkserver where available.
    blas_threads
        If given, each worker limits its BLAS/OpenMP thread pools to this many threads.
    """
    methods = multiprocessing.get_all_start_methods()
    method = start_method or ("forkserver" if "forkserver" in methods else "spawn")
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        # The forkserver (started on first use, shared by later pools) imports this module
        # and so arms its own parent-death signal (see _arm_forkserver).
        os.environ[_DRIVER_ENV] = str(os.getpid())
        ctx.set_forkserver_preload([__name__])
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=ctx,
        initializer=_init_worker,
        initargs=(blas_threads, dict(os.environ)),
    )


class PoolExecutor:
    """A local pool of worker processes started by ``forkserver`` (or ``spawn``).

    Not ``fork``: Numba's OpenMP threading layer is not fork-safe once it has started threads,
    and a forked child would also inherit whatever the driver had loaded.
    """

    name = "local"

    def __init__(self, workers: int, threads: int, start_method: str | None = None) -> None:
        self.workers = workers
        self.threads = threads
        methods = multiprocessing.get_all_start_methods()
        self.start_method = start_method or ("forkserver" if "forkserver" in methods else "spawn")
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> PoolExecutor:
        self._pool = worker_pool(self.workers, self.start_method)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            # Running tasks finish (and write their parts); queued ones are dropped.
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def run(self, tasks: Iterator[TaskSpec], on_report: OnReport) -> Outcome:
        """Run every task on the pool, at most two per worker in flight."""
        assert self._pool is not None, "use the executor as a context manager"
        outcome = Outcome()
        inflight: dict[Future[TaskReport], TaskSpec] = {}
        slots = 2 * self.workers

        def fill() -> None:
            while len(inflight) < slots:
                task = next(tasks, None)
                if task is None:
                    return
                inflight[self._pool.submit(execute_task, task)] = task  # type: ignore[union-attr]

        fill()
        while inflight:
            done, _ = wait(inflight, return_when=FIRST_COMPLETED)
            for fut in done:
                task = inflight.pop(fut)
                try:
                    report = fut.result()
                except BrokenProcessPool as exc:
                    raise WorkersLost(
                        f"a worker process died ({exc}); finished runs are kept"
                    ) from None
                except Exception as exc:
                    outcome.errors.append((task.key, f"{type(exc).__name__}: {exc}"))
                    continue
                on_report(report)
            fill()
        return outcome


@contextlib.contextmanager
def local_cluster(workers: int) -> Iterator[Any]:
    """A Dask ``LocalCluster`` on loopback: worker processes with one task thread each.

    The nanny's ``MALLOC_TRIM_THRESHOLD_`` is unset before the workers are spawned: Dask sets it
    to 64 KiB by default, which makes glibc return memory to the system after every large free
    and slows numpy-heavy workers several-fold.
    """
    import dask
    from distributed import LocalCluster

    settings = {
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
        # A task whose worker died comes back to the driver at once (KilledWorker), which
        # resubmits it a bounded number of times and records it, instead of the scheduler
        # retrying it silently.
        "distributed.scheduler.allowed-failures": 0,
    }
    with dask.config.set(settings):
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            # The scheduler's HTTP server (health checks; the dashboard if bokeh is installed)
            # on a free loopback port: the default 8787 may be taken by another cluster.
            dashboard_address="127.0.0.1:0",
        )
    try:
        yield cluster
    finally:
        cluster.close()


def package_versions() -> dict[str, str | None]:
    """Python and :data:`KEY_PACKAGES` versions of this process (run on every Dask worker)."""
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in KEY_PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def version_mismatches(
    driver: dict[str, str | None], workers: dict[str, dict[str, str | None]]
) -> list[str]:
    """Lines ``worker: package version (driver: version)`` for every difference."""
    lines = []
    for address, versions in sorted(workers.items()):
        for name, mine in driver.items():
            theirs = versions.get(name) if isinstance(versions, dict) else None
            if theirs != mine:
                lines.append(f"{address}: {name} {theirs} (driver: {mine})")
    return lines


def _arm_dask_worker() -> bool:
    # Run on each worker of a LocalCluster: its worker processes are children of the driver
    # (the nannies live in the driver's event loop).
    start_watchdog()
    return die_with_parent()


def lifeline_plugin() -> Any:
    """A Dask worker plugin that arms :func:`_arm_dask_worker` on every worker, including
    those a nanny restarts after one died."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class Lifeline(WorkerPlugin):
        name = "urbsim-lifeline"

        def setup(self, worker: Any) -> None:
            _arm_dask_worker()

    return Lifeline()


def _worker_died(exc: BaseException) -> bool:
    """Whether a task's exception means its worker died (not that the task itself failed)."""
    names = {type(exc).__name__} | {t.__name__ for t in type(exc).__mro__}
    return bool(names & {"KilledWorker", "CommClosedError", "FutureCancelledError"})


class DaskExecutor:
    """Tasks on a Dask cluster: a new ``LocalCluster`` or an existing scheduler's workers.

    Each task is submitted with ``pure=False`` and a key naming its runs, and results are taken
    with ``as_completed`` so each report reaches the driver (and the progress bar) as soon as
    the task ends. Workers write their parts themselves: on a multi-node cluster the output
    folder must be on a file system every worker sees. Before any task, every worker must run
    the driver's versions of :data:`KEY_PACKAGES`; a task whose worker died is resubmitted up
    to :data:`MAX_RETRIES` times.
    """

    name = "dask"

    def __init__(
        self,
        workers: int,
        threads: int,
        scheduler: str | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.workers = workers
        self.threads = threads
        self.scheduler = scheduler
        self._log = log or (lambda message: None)
        self._stack = contextlib.ExitStack()
        self._client: Any = None

    def __enter__(self) -> DaskExecutor:
        try:
            from distributed import Client
        except ImportError:
            raise RuntimeError(
                "the dask executor needs the optional extra: pip install 'urbsim[dask]'"
            ) from None
        try:
            if self.scheduler is None:
                cluster = self._stack.enter_context(local_cluster(self.workers))
                self._client = self._stack.enter_context(Client(cluster))
                self._client.register_plugin(lifeline_plugin())
            else:
                self._client = self._stack.enter_context(self._connect(Client))
                self.workers = max(1, len(self._client.scheduler_info().get("workers", {})))
            self.check_versions()
            link = getattr(self._client, "dashboard_link", None)
            if link:
                self._log(f"dask dashboard: {link}")
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _connect(self, client_class: Any) -> Any:
        try:
            return client_class(self.scheduler, timeout="30s")
        except (OSError, TimeoutError) as exc:
            raise WorkerEnvironmentError(
                f"--scheduler {self.scheduler}: cannot reach the dask scheduler: {exc}"
            ) from None

    def check_versions(self) -> None:
        """Refuse workers that run other versions of the key packages than the driver.

        Raises
        ------
        WorkerEnvironmentError
            Listing each worker, package and version that differ.
        """
        found = self._client.run(package_versions)
        lines = version_mismatches(package_versions(), found)
        if lines:
            shown = "\n".join(lines[:20])
            raise WorkerEnvironmentError(
                f"dask workers at {self.scheduler or 'the local cluster'} run other package "
                f"versions than the driver (results would depend on the worker):\n{shown}\n"
                "install the same versions on every node (see docs/sweeps.md)"
            )

    def run(self, tasks: Iterator[TaskSpec], on_report: OnReport) -> Outcome:
        """Run every task on the cluster, at most two per worker thread in flight."""
        from distributed import as_completed

        client = self._client
        outcome = Outcome()
        nthreads = sum(client.nthreads().values()) or self.workers
        keys: dict[str, TaskSpec] = {}

        def submit(task: TaskSpec | None) -> Any:
            if task is None:
                return None
            keys[task.key] = task
            return client.submit(execute_task, task, key=task.key, pure=False)

        first = (submit(next(tasks, None)) for _ in range(2 * nthreads))
        pending = [f for f in first if f is not None]
        queue = as_completed(pending)
        try:
            for fut in queue:
                task = keys.pop(fut.key)
                retry = None
                try:
                    on_report(fut.result())
                except Exception as exc:  # KilledWorker, a part that cannot be written, ...
                    if _worker_died(exc) and task.retries < MAX_RETRIES:
                        retry = self._retry(task, exc)
                    else:
                        outcome.errors.append((task.key, f"{type(exc).__name__}: {exc}"))
                fut.release()
                for nxt in (submit(retry), submit(next(tasks, None))):
                    if nxt is not None:
                        queue.add(nxt)
        except BaseException:
            client.cancel(list(queue.futures))
            raise
        return outcome

    def _retry(self, task: TaskSpec, exc: BaseException) -> TaskSpec:
        n = task.retries + 1
        self._log(f"task {task.key}: its worker died ({type(exc).__name__}); retry {n}")
        base = task.key.split("-retry")[0]
        return replace(task, key=f"{base}-retry{n}", retries=n)
