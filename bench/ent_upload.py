#!/usr/bin/env python3
# bench/ent_upload.py — the ENT uploads a large file to the gateway
# (POST /hub/v1/ent/schools/<id>/files): the gateway's peak RSS while it
# receives and chunks the stream (flat whatever the size), and throughput.
#
# For each size (BENCH_ENT_SIZES, default "100 1024" MiB): starts a fresh
# `relais-hub serve` on 127.0.0.1 (SQLite, an ENT key), adds a school and
# publishes a teacher, streams a PDF-looking file of that size with curl and
# reads the gateway's VmHWM (peak RSS since start) from /proc before and after.
# The gateway's copy is checked byte for byte (GET …/files/<sha256>).
#   RELAIS=build/relais python3 bench/ent_upload.py
#   BENCH_ENT_SIZES="512" python3 bench/ent_upload.py
import hashlib
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

SIZES = [int(s) for s in os.environ.get("BENCH_ENT_SIZES", "100 1024").split()]
MiB = 1 << 20
KEY = "bench-ent-key-0123456789abcdef"


def env():
    e = {k: v for k, v in os.environ.items() if not k.startswith("RELAIS_")}
    e["RELAIS_MAX_UPLOAD_MB"] = str(max(SIZES) + 100)
    return e


def curl(*args, timeout=3600):
    argv = ["curl", "-sS", "--max-time", str(timeout), "-H", f"Authorization: Bearer {KEY}", *args]
    r = subprocess.run(argv, capture_output=True, timeout=timeout + 60)
    if r.returncode != 0:
        raise RuntimeError(f"curl {' '.join(args)}: exit {r.returncode}: {r.stderr.decode()[-300:]}")
    return r.stdout


def make_file(path, size):
    return b.random_file(path, size, b"%PDF-1.7\n")


def start_gateway(tmp, tag):
    """A fresh gateway with an ENT key, a school and a teacher: (process, the school's ENT base URL)."""
    hub_dir = os.path.join(tmp, f"hub-{tag}")
    os.mkdir(hub_dir)
    with open(os.path.join(hub_dir, "ent.key"), "w") as f:
        f.write(KEY + "\n")
    with open(os.path.join(hub_dir, "relais.conf"), "w") as f:
        f.write(f"hub_ent_key_file = {os.path.join(hub_dir, 'ent.key')}\n")
    hub_out = open(os.path.join(tmp, f"hub-{tag}.out"), "wb")
    hub = b.spawn([b.hub_binary(), "serve", "--data", hub_dir, "--listen", f"{b.HOST}:0"], stdout=hub_out,
                  stderr=open(os.path.join(tmp, f"hub-{tag}.log"), "wb"), env=env())
    url = None
    for _ in range(600):
        with open(hub_out.name) as f:
            m = re.search(r"Listening on (http://\S+)", f.read())
        if m:
            url = m.group(1)
            break
        time.sleep(0.05)
    if not url:
        raise RuntimeError("relais-hub serve did not start")
    r = subprocess.run([b.hub_binary(), "school", "add", "--data", hub_dir, "Collège du banc d'essai"],
                       capture_output=True, text=True, env=env(), check=True)
    base = f"{url}/hub/v1/ent/schools/{r.stdout.strip()}"
    roster = {"users": [{"login": "prof.bench", "role": "teacher"}]}
    curl("-X", "POST", "-H", "Content-Type: application/json", "--data-binary", json.dumps(roster), f"{base}/publish")
    return hub, base


def main():
    b.need("curl")
    tmp = b.temp_dir("ent-upload")
    for mb in SIZES:
        # A fresh gateway per size: VmHWM is the peak since the process started.
        hub, base = start_gateway(tmp, mb)
        start_kib = b.proc_status(hub.pid)["VmHWM"]
        path = os.path.join(tmp, f"cours-{mb}.pdf")
        sha = make_file(path, mb * MiB)
        start = time.monotonic()
        out = curl("-X", "POST", "-T", path, "-H", "Expect:", "-H", "Content-Type: application/pdf",
                   f"{base}/files?name=cours-{mb}.pdf&owner=prof.bench")
        took = time.monotonic() - start
        answer = json.loads(out)
        if answer.get("sha256") != sha:
            raise RuntimeError(f"upload of {mb} MiB: {out[:300]!r}")
        peak_kib = b.proc_status(hub.pid)["VmHWM"]
        os.remove(path)
        h = hashlib.sha256()
        with subprocess.Popen(["curl", "-sS", "-H", f"Authorization: Bearer {KEY}", f"{base}/files/{sha}"],
                              stdout=subprocess.PIPE) as p:
            for block in iter(lambda: p.stdout.read(4 * MiB), b""):
                h.update(block)
        ok = "identical" if h.hexdigest() == sha else "DIFFERENT"
        b.stop(hub)
        b.say(f"ent_upload: {mb} MiB in {took:.1f} s ({mb * MiB / took / 1e6:.0f} MB/s); gateway peak RSS "
              f"{peak_kib / 1024:.1f} MiB (after start and publish: {start_kib / 1024:.1f} MiB); "
              f"the gateway's copy {ok}")
        b.record(f"gateway peak RSS, ENT upload of {mb} MiB", round(peak_kib / 1024, 1), "MiB")
        b.record(f"ENT upload throughput, {mb} MiB", round(mb * MiB / took / 1e6, 1), "MB/s")
        if ok != "identical":
            raise RuntimeError("the gateway's copy differs")


if __name__ == "__main__":
    main()
