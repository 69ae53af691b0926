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
broken for good: the sweep stops, resumable.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Literal

from urbsim.sweep.runs import TaskReport, TaskSpec, execute_task

ExecutorKind = Literal["serial", "local", "dask"]
OnReport = Callable[[TaskReport], None]


class WorkersLost(RuntimeError):
    """The process pool lost a worker (killed, out of memory): the sweep cannot go on."""


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


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


def _init_worker() -> None:
    # Ctrl-C reaches the whole process group; the driver handles it (lets running tasks finish
    # and write their parts, cancels the rest), so workers must not die mid-task on it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


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
        ctx = multiprocessing.get_context(self.start_method)
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=ctx, initializer=_init_worker
        )
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

    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
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


class DaskExecutor:
    """Tasks on a Dask cluster: a new ``LocalCluster`` or an existing scheduler's workers.

    Each task is submitted with ``pure=False`` and a key naming its runs, and results are taken
    with ``as_completed`` so each report reaches the driver (and the progress bar) as soon as
    the task ends. Workers write their parts themselves: on a multi-node cluster the output
    folder must be on a file system every worker sees.
    """

    name = "dask"

    def __init__(self, workers: int, threads: int, scheduler: str | None = None) -> None:
        self.workers = workers
        self.threads = threads
        self.scheduler = scheduler
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
            else:
                self._client = self._stack.enter_context(Client(self.scheduler, timeout="30s"))
                self.workers = max(1, len(self._client.scheduler_info().get("workers", {})))
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def run(self, tasks: Iterator[TaskSpec], on_report: OnReport) -> Outcome:
        """Run every task on the cluster, at most two per worker thread in flight."""
        from distributed import as_completed

        client = self._client
        outcome = Outcome()
        nthreads = sum(client.nthreads().values()) or self.workers
        slots = 2 * nthreads
        keys: dict[str, TaskSpec] = {}

        def submit() -> Any:
            task = next(tasks, None)
            if task is None:
                return None
            keys[task.key] = task
            return client.submit(execute_task, task, key=task.key, pure=False)

        pending = [f for f in (submit() for _ in range(slots)) if f is not None]
        queue = as_completed(pending)
        try:
            for fut in queue:
                task = keys.pop(fut.key)
                try:
                    report = fut.result()
                except Exception as exc:  # KilledWorker, a part that cannot be written, ...
                    outcome.errors.append((task.key, f"{type(exc).__name__}: {exc}"))
                else:
                    on_report(report)
                fut.release()
                nxt = submit()
                if nxt is not None:
                    queue.add(nxt)
        except BaseException:
            client.cancel(list(queue.futures))
            raise
        return outcome
