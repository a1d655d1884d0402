"""The cyclic garbage collector waits while a pass over every lead runs, and only then."""

import gc
import threading

import pytest

from coaching.bulk import collector_paused


def test_the_collector_is_held_off_during_a_pass_and_back_after_the_last_one() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # a second pass, in another thread or nested
            assert not gc.isenabled()
        assert not gc.isenabled()  # the first one is still running
    assert gc.isenabled()


def test_a_pass_that_fails_still_lets_the_collector_resume() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("the database went away")
    assert gc.isenabled()


def test_a_process_that_turned_the_collector_off_keeps_it_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_passes_in_threads_side_by_side_leave_the_collector_on() -> None:
    started, release = threading.Barrier(3), threading.Event()

    def run() -> None:
        with collector_paused():
            started.wait()
            release.wait()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    started.wait()
    assert not gc.isenabled()
    release.set()
    for thread in threads:
        thread.join()
    assert gc.isenabled()
