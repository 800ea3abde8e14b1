# bench/benchlib.py — what every benchmark shares: a relais server and an
# nginx on 127.0.0.1 in a fresh temporary folder, wrk runs, HTTP helpers,
# and the result records that bench/run.sh turns into its summary table.
#
# Rules every benchmark follows (see bench/README.md):
#   * only 127.0.0.1; the server under test is pinned on core 0
#     (taskset -c 0), the load generator on core 1 (taskset -c 1);
#   * every child runs in its own process group and is killed (TERM, then
#     KILL) when the benchmark ends, normally, on an error, or on SIGINT,
#     SIGTERM or SIGHUP;
#   * every wait is bounded.
# Python 3 standard library only.

import atexit
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HOST = "127.0.0.1"
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
LUA_REPORT = os.path.join(HERE, "wrk_report.lua")
PASSWORD = "bench-Password-1234"

_children = []  # Popen objects still to be stopped
_temp_dirs = []


def _binary(variable, name):
    path = os.environ.get(variable, os.path.join(REPO, "build", name))
    if not os.path.isabs(path):
        path = os.path.join(REPO, path)
    if not os.access(path, os.X_OK):
        sys.exit(f"bench: no {name} binary at {path} (build it, or set {variable}=/path/to/{name})")
    return path


def relais_binary():
    """The box, `relais` (RELAIS overrides build/relais)."""
    return _binary("RELAIS", "relais")


def hub_binary():
    """The gateway, `relais-hub` (RELAIS_HUB overrides build/relais-hub)."""
    return _binary("RELAIS_HUB", "relais-hub")


def need(tool):
    if shutil.which(tool) is None:
        sys.exit(f"bench: '{tool}' is missing (scripts/install-deps.sh bench installs it)")


# --- processes and clean-up --------------------------------------------------

def _stop(proc, grace=3.0):
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=5)


def stop(proc):
    _stop(proc)
    if proc in _children:
        _children.remove(proc)


def cleanup():
    while _children:
        _stop(_children.pop())
    while _temp_dirs:
        shutil.rmtree(_temp_dirs.pop(), ignore_errors=True)


def _on_signal(signum, _frame):
    cleanup()
    sys.exit(128 + signum)


atexit.register(cleanup)
for _sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


def spawn(argv, **kw):
    """Starts argv in its own process group; it is stopped at exit."""
    proc = subprocess.Popen(argv, start_new_session=True, **kw)
    _children.append(proc)
    return proc


def temp_dir(tag):
    base = os.environ.get("BENCH_TMP") or None  # default: $TMPDIR or /tmp
    d = tempfile.mkdtemp(prefix=f"relais-bench-{tag}-", dir=base)
    os.chmod(d, 0o755)  # nginx workers run as an unprivileged user when started as root
    if not os.environ.get("BENCH_KEEP"):
        _temp_dirs.append(d)
    return d


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"process {proc.args[0]} exited with {proc.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {HOST}:{port} after {timeout} s")


def proc_status(pid):
    """VmRSS and VmHWM of `pid` in KiB, from /proc/PID/status."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0])
    return out


# --- the relais server -------------------------------------------------------

def cli(data, *args, stdin=None, timeout=60):
    r = subprocess.run([relais_binary(), *args, "--data", data], input=stdin, capture_output=True, text=True,
                       timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"relais {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout


class Relais:
    """`relais serve` on 127.0.0.1, a free port, in `data` (a fresh folder)."""

    def __init__(self, data, cpus="0", extra_args=(), env_extra=None):
        self.data = data
        self.log_path = os.path.join(data, "..", os.path.basename(data) + "-server.log")
        env = {k: v for k, v in os.environ.items() if not k.startswith("RELAIS_")}  # no stray settings
        env.update(env_extra or {})
        argv = [relais_binary(), "serve", "--data", data, "--listen", f"{HOST}:0", *extra_args]
        if cpus:
            argv = ["taskset", "-c", cpus, *argv]
        # The structured log (one line per request) goes to a file, as it would go to journald.
        self.log = open(self.log_path, "wb")
        self.out_path = self.log_path.replace("-server.log", "-server.out")
        self.out = open(self.out_path, "wb")
        self.proc = spawn(argv, stdout=self.out, stderr=self.log, env=env)
        self.pid = self.proc.pid  # taskset execs the server: same pid
        self.port = self._read_port(timeout=30)
        wait_port(self.port, self.proc)

    def _read_port(self, timeout):
        end = time.monotonic() + timeout
        text = ""
        while time.monotonic() < end:
            with open(self.out_path, "rb") as f:
                text = f.read().decode(errors="replace")
            m = re.search(r"Listening on http://127\.0\.0\.1:(\d+)", text)
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        with open(self.log_path, "rb") as f:
            log = f.read()[-1000:].decode(errors="replace")
        raise RuntimeError(f"relais serve did not start: {text} {log}")

    @property
    def base(self):
        return f"http://{HOST}:{self.port}"

    def stop(self):
        stop(self.proc)
        self.log.close()
        self.out.close()


def random_file(path, size, header=b""):
    """Writes `size` bytes: `header` (so the file passes the server's type check), then random bytes
    written 4 MiB at a time (memory stays flat). Returns the file's SHA-256 (hex)."""
    h = hashlib.sha256(header)
    with open(path, "wb") as f:
        f.write(header)
        left = size - len(header)
        while left > 0:
            block = os.urandom(min(left, 4 << 20))
            f.write(block)
            h.update(block)
            left -= len(block)
    return h.hexdigest()


def make_data_dir(root, name="data"):
    d = os.path.join(root, name)
    os.mkdir(d)
    return d


# --- HTTP helpers (stdlib) -----------------------------------------------------

def request(port, method, path, body=None, headers=None, timeout=60):
    """Returns (status, headers, body bytes). `body` may be bytes, a dict (sent as JSON) or None."""
    h = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


def api_json(port, method, path, body=None, token=None, expect=(200, 201)):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    status, _, data = request(port, method, path, body, headers)
    if status not in expect:
        raise RuntimeError(f"{method} {path}: HTTP {status}: {data[:300]!r}")
    return json.loads(data) if data else None


def login(port, user, password=PASSWORD):
    return api_json(port, "POST", "/api/v1/session", {"login": user, "password": password})["token"]


def upload(port, token, data, content_type, filename):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type, "X-Filename": filename}
    status, _, body = request(port, "POST", "/api/v1/files", data, headers, timeout=600)
    if status != 201:
        raise RuntimeError(f"upload {filename}: HTTP {status}: {body[:300]!r}")
    return json.loads(body)


def seed_class(data, students=("eleve1",), teacher="prof1", class_name="3A"):
    """A class, its teacher and students, through the CLI (before the server starts)."""
    cli(data, "class", "add", "--name", class_name)
    cli(data, "user", "add", "--login", teacher, "--role", "teacher", "--class", class_name,
        "--display-name", "Mme Prof", "--password", PASSWORD)
    for s in students:
        cli(data, "user", "add", "--login", s, "--role", "student", "--class", class_name,
            "--display-name", f"Élève {s}", "--password", PASSWORD)


# --- nginx as the reference ------------------------------------------------------

class Nginx:
    """nginx serving `root` on 127.0.0.1, one worker pinned on core 0, sendfile on, no access log."""

    def __init__(self, tmp, root):
        need("nginx")
        self.port = free_port()
        prefix = os.path.join(tmp, "nginx")
        os.makedirs(prefix, exist_ok=True)
        conf = os.path.join(prefix, "nginx.conf")
        user = "user root root;\n" if os.geteuid() == 0 else ""
        with open(conf, "w") as f:
            f.write(f"""# written by bench/benchlib.py
{user}daemon off;
master_process on;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 100000;
  keepalive_timeout 30s;
  types {{ application/pdf pdf; image/jpeg jpg; video/mp4 mp4; }}
  default_type application/octet-stream;
  client_body_temp_path {prefix}/client_body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  server {{
    listen {HOST}:{self.port};
    root {root};
  }}
}}
""")
        self.proc = spawn(["taskset", "-c", "0", "nginx", "-p", prefix, "-c", conf, "-e",
                           os.path.join(prefix, "error.log")],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc)

    @property
    def worker_pid(self):
        """The one worker process (the master only supervises it)."""
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                kids = f.read().split()
            return int(kids[0]) if kids else self.proc.pid
        except OSError:
            return self.proc.pid

    def stop(self):
        stop(self.proc)


# --- how busy the machine is ---------------------------------------------------------
# Other work on the two cores (a compiler, tests) makes every figure worse. Each
# wrk run therefore reports how much of core 0 the server itself got; the
# benchmarks wait (bounded) for a quiet machine before they start.

CLK_TCK = os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid):
    """User + system CPU seconds of process `pid` (all its threads)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def cores_busy_s():
    """{core: busy seconds} from /proc/stat for cores 0 and 1 (busy = all but idle and iowait)."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith(("cpu0 ", "cpu1 ")):
                v = [int(x) for x in line.split()[1:]]
                out[int(line[3])] = (sum(v[:8]) - v[3] - v[4]) / CLK_TCK
    return out


def machine_busy(seconds=1.0):
    """Fraction (0..1) of cores 0 and 1 busy over `seconds`, per core: {0: f, 1: f}."""
    a = cores_busy_s()
    time.sleep(seconds)
    b = cores_busy_s()
    return {c: (b[c] - a[c]) / seconds for c in a}


def wait_quiet(max_wait=None, threshold=0.15):
    """Waits (at most BENCH_QUIET_WAIT s, default 120) until neither core 0 nor 1 is more than
    `threshold` busy with other work; prints what it found. Returns the last busy fractions."""
    if max_wait is None:
        max_wait = float(os.environ.get("BENCH_QUIET_WAIT", "120"))
    end = time.monotonic() + max_wait
    busy = machine_busy()
    waited = False
    while max(busy.values()) > threshold and time.monotonic() < end:
        if not waited:
            say(f"machine: cores busy {busy[0]:.0%}/{busy[1]:.0%} with other work; waiting up to {max_wait:.0f} s "
                f"for them to calm down (load average {os.getloadavg()[0]:.1f})")
            waited = True
        time.sleep(2)
        busy = machine_busy()
    if max(busy.values()) > threshold:
        say(f"machine: WARNING cores still busy {busy[0]:.0%}/{busy[1]:.0%} with other work "
            f"(load average {os.getloadavg()[0]:.1f}); the figures below are pessimistic")
    elif waited:
        say(f"machine: quiet now (cores busy {busy[0]:.0%}/{busy[1]:.0%})")
    return busy


# --- wrk -----------------------------------------------------------------------

def wrk(url, connections, duration_s, headers=(), script=LUA_REPORT, env_extra=None, timeout_s=10, server_pid=None):
    """Runs wrk on core 1 (one thread) and returns the report of bench/wrk_report.lua as a dict:
    requests, bytes, duration_s, rps, mbps, p50_ms, p90_ms, p99_ms, max_ms, errors (dict); and
    core0_busy / core1_busy (fractions of each core busy during the run) and, with `server_pid`,
    server_cpu (the server's CPU seconds per second of run: 1.0 is all of one core)."""
    need("wrk")
    argv = ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{duration_s}s", "--latency",
            f"--timeout", f"{timeout_s}s", "-s", script]
    for h in headers:
        argv += ["-H", h]
    argv.append(url)
    env = dict(os.environ)
    env["WRK_REPORT_LUA"] = LUA_REPORT  # scripts with their own request() load the report from here
    env.update(env_extra or {})
    cores0, cpu0, t0 = cores_busy_s(), process_cpu_s(server_pid) if server_pid else 0.0, time.monotonic()
    proc = spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        out, err = proc.communicate(timeout=duration_s + timeout_s + 30)
    except subprocess.TimeoutExpired:
        stop(proc)
        raise RuntimeError("wrk did not finish in time")
    stop(proc)
    m = re.search(r"^WRK_JSON (.*)$", out, re.M)
    if proc.returncode != 0 or not m:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {err.strip()} {out[-500:]}")
    r = json.loads(m.group(1))
    elapsed = time.monotonic() - t0
    cores1 = cores_busy_s()
    r["core0_busy"] = (cores1[0] - cores0[0]) / elapsed
    r["core1_busy"] = (cores1[1] - cores0[1]) / elapsed
    r["server_cpu"] = (process_cpu_s(server_pid) - cpu0) / elapsed if server_pid else None
    r["duration_s"] = r["duration_us"] / 1e6
    r["rps"] = r["requests"] / r["duration_s"]
    r["mbps"] = r["bytes"] / r["duration_s"] / 1e6
    for k in ("p50", "p90", "p99", "max"):
        r[f"{k}_ms"] = r[f"{k}_us"] / 1000.0
    return r


def perf_start(pid, tag, seconds):
    """With BENCH_PERF=DIR, records `perf record -g` of `pid` for `seconds` into DIR/TAG.perf.data
    (call it just before a wrk run; read it with `perf report -i ...`). Otherwise does nothing."""
    out_dir = os.environ.get("BENCH_PERF")
    if not out_dir or shutil.which("perf") is None:
        return None
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(os.path.abspath(out_dir), f"{tag}.perf.data")
    return spawn(["taskset", "-c", "1", "perf", "record", "-F", "499", "--call-graph", "dwarf,16384", "-p", str(pid), "-o", out, "--",
                  "sleep", str(seconds)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def perf_wait(proc):
    if proc is not None:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        stop(proc)


def error_note(r):
    e = r["errors"]
    parts = [f"{k} {v}" for k, v in e.items() if v]
    return f" [errors: {', '.join(parts)}]" if parts else ""


def cpu_note(r):
    """'; core 0 busy 98%, server CPU 0.95 core' — to judge whether other work stole the core."""
    out = f"; core0 busy {r['core0_busy']:.0%}"
    if r.get("server_cpu") is not None:
        out += f", server CPU {r['server_cpu']:.2f} core"
    return out


# --- results -----------------------------------------------------------------------

def record(name, value, unit, target=None, op=None, note=""):
    """Notes one figure for bench/run.sh's summary. op is '>=' or '<' (value against target)."""
    path = os.environ.get("BENCH_RESULTS")
    if not path:
        return
    ok = None
    if target is not None and value is not None:
        ok = value >= target if op == ">=" else value < target
    with open(path, "a") as f:
        f.write(json.dumps({"name": name, "value": value, "unit": unit, "target": target, "op": op,
                            "pass": ok, "note": note}) + "\n")


def say(line):
    print(line, flush=True)
