# SPDX-License-Identifier: LGPL-2.1-or-later
"""Leak report: shmr.leak_report() and the report at interpreter exit."""
import gc
import os
import re
import sys

import shmr

LEAKER = """
import shmr
keep = shmr.SharedMemory({name!r}, create=True, size=8192)   # line 3: leaked
gone = shmr.SharedMemory(create=True, size=4096)              # line 4: closed
gone.close(); gone.unlink()
"""


def test_report_lists_what_is_held(uname):
    name = uname()
    a = shmr.SharedMemory(name, create=True, size=5000); line = sys._getframe().f_lineno  # noqa: E702
    rep = [x for x in shmr.leak_report() if x.name == name]
    assert sorted(x.kind for x in rep) == ["handle", "mapping"]
    for x in rep:
        assert x.size == 8192
        assert x.where == f"{__file__}:{line}"
        assert x.id == a.stat()["id"]
    h = [x for x in rep if x.kind == "handle"][0]
    m = [x for x in rep if x.kind == "mapping"][0]
    assert h.fd == a.fileno()
    assert m.addr == a._region.address
    a.close()
    assert [x for x in shmr.leak_report() if x.name == name] == []
    a.unlink()


def test_anonymous_in_report():
    a = shmr.SharedMemory(create=True, size=10, anonymous=True)
    rep = shmr.leak_report()
    assert any(x.kind == "handle" and x.name is None and x.fd == a.fileno() for x in rep)
    a.close()


def test_lock_held_in_report():
    a = shmr.SharedMemory(create=True, size=4096)
    lock = shmr.Lock(a, 0, create=True)
    lock.acquire()
    locks = [x for x in shmr.leak_report() if x.kind == "lock"]
    assert len(locks) == 1 and locks[0].addr == a._region.address
    assert locks[0].tid == __import__("threading").get_native_id()
    lock.release()
    assert [x for x in shmr.leak_report() if x.kind == "lock"] == []
    lock.close()
    a.close()
    a.unlink()


def test_exit_report_names_the_leak(py, uname):
    name = uname()
    r = py(LEAKER.format(name=name))
    assert r.returncode == 0, r.stderr
    lines = [x for x in r.stderr.splitlines() if x.startswith("shmr-leak: ")]
    assert re.match(r"shmr-leak: pid=\d+ comm=\S+ leaks=2$", lines[0]), lines
    assert len(lines) == 3
    body = "\n".join(lines[1:])
    assert f"handle name={name} size=8192 " in body
    assert f"mapping name={name} size=8192 " in body
    assert all(x.endswith("where=<string>:3") for x in lines[1:]), lines
    assert "size=4096" not in body  # the closed one is not reported


def test_exit_report_off(py, uname):
    r = py(LEAKER.format(name=uname()), env={"SHMR_LEAK": "off"})
    assert r.returncode == 0 and "shmr-leak" not in r.stderr


def test_exit_report_fatal(py, uname):
    r = py(LEAKER.format(name=uname()), env={"SHMR_LEAK": "fatal"})
    assert r.returncode == 86 and "leaks=2" in r.stderr


def test_exit_report_file(py, uname, tmp_path):
    f = tmp_path / "leaks.txt"
    r = py(LEAKER.format(name=uname()), env={"SHMR_LEAK_FILE": str(f)})
    assert r.returncode == 0 and "shmr-leak" not in r.stderr
    assert "leaks=2" in f.read_text()


def test_nothing_leaked_nothing_printed(py):
    r = py("import shmr\nwith shmr.SharedMemory(create=True, size=10) as s: s.unlink()\n")
    assert r.returncode == 0 and r.stderr == ""


def test_garbage_collected_without_close_is_a_leak(py, uname):
    name = uname()
    r = py(f"import shmr, gc\nshmr.SharedMemory({name!r}, create=True, size=10)\ngc.collect()\n")
    assert f"handle name={name} " in r.stderr


def test_multiprocessing_child_reports_at_exit(py, uname):
    name = uname()
    code = f"""
import multiprocessing, shmr
def child():
    shmr.SharedMemory({name!r}, create=True, size=4096)   # leaked by the child
if __name__ == "__main__":
    for method in ("fork", "spawn"):
        p = multiprocessing.get_context(method).Process(target=child)
        p.start(); p.join()
        shmr.unlink({name!r})
"""
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"{name}.py")
    with open(path, "w") as f:
        f.write(code)
    try:
        r = py(f"import runpy; runpy.run_path({path!r}, run_name='__main__')")
    finally:
        os.unlink(path)
    heads = re.findall(r"shmr-leak: pid=(\d+) comm=\S+ leaks=2", r.stderr)
    assert len(heads) == 2, r.stderr  # one report per child, none from the parent
    assert r.stderr.count(f"handle name={name} ") == 2


def test_registry_marks_inherited():
    a = shmr.SharedMemory(create=True, size=10)
    pid = os.fork()
    if pid == 0:
        ok = all(e["inherited"] for e in shmr.registry() if e["name"] == a.name)
        ok = ok and not [x for x in shmr.leak_report() if x.name == a.name]
        os._exit(0 if ok else 1)
    _, st = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(st) == 0
    gc.collect()
    a.close()
    a.unlink()
