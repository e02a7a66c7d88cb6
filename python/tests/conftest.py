"""Helpers the Python tests share."""

import threading


def run_in_threads(worker, count, timeout=120):
    """Runs worker(k) for k in range(count) on as many threads at once; re-raises the first failure."""
    errors = []

    def guarded(k):
        try:
            worker(k)
        except Exception as e:  # a failure in a thread must fail the test
            errors.append(e)

    threads = [threading.Thread(target=guarded, args=(k,)) for k in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    if errors:
        raise errors[0]
