#!/usr/bin/env python3
# bench/memory.py — the server's resident memory, idle and under 200 range readers of a 1 GB file.
#
# 1. Starts `relais serve --max-upload-mb 1100` (taskset -c 0) on a fresh data
#    folder with a teacher, waits 1 s, and reads VmRSS and VmHWM from
#    /proc/PID/status: "idle after start". Target < 20 MB.
# 2. Writes a 1 GiB MP4-looking file (an ISO-BMFF "ftyp" box: bytes 4..11 are
#    "ftypisom", then random bytes) and uploads it once through POST
#    /api/v1/files, streamed by curl (-T, so curl does not load it into memory;
#    curl on core 1). Reports the upload time and VmHWM after it.
# 3. wrk -t1 -c200 (core 1) with bench/wrk_ranges.lua: every request is
#    "Range: bytes=a-b" for a random 1-8 MB window of the file. VmRSS is sampled
#    every 0.5 s; the maximum is the figure. Target < 64 MB.
#
# Environment: RELAIS, BENCH_MEM_DURATION (seconds of range load, default 20),
# BENCH_BIG_MB (file size in MiB, default 1024).

import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

DURATION = int(os.environ.get("BENCH_MEM_DURATION", "20"))
BIG_MB = int(os.environ.get("BENCH_BIG_MB", "1024"))
CONNS = 200


def make_big_file(path, size):
    header = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
    block = os.urandom(4 << 20)
    with open(path, "wb") as f:
        f.write(header)
        left = size - len(header)
        while left > 0:
            n = min(left, len(block))
            f.write(block[:n])
            left -= n
    os.chmod(path, 0o644)


def upload_with_curl(port, token, path):
    b.need("curl")
    out = path + ".response"
    argv = ["taskset", "-c", "1", "curl", "-sS", "--max-time", "600", "-o", out, "-w", "%{http_code}",
            "-X", "POST", "-T", path, "-H", "Expect:", "-H", "Content-Type: video/mp4",
            "-H", "X-Filename: cours-video.mp4", "-H", f"Authorization: Bearer {token}",
            f"http://{b.HOST}:{port}/api/v1/files"]
    proc = b.spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    code, err = proc.communicate(timeout=660)
    b.stop(proc)
    with open(out) as f:
        body = f.read()
    if code.strip() != "201":
        raise RuntimeError(f"upload of the big file: HTTP {code} {err} {body[:300]}")
    import json
    return json.loads(body)


class Sampler(threading.Thread):
    def __init__(self, pid, period=0.5):
        super().__init__(daemon=True)
        self.pid, self.period = pid, period
        self.samples = []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            try:
                self.samples.append(b.proc_status(self.pid)["VmRSS"])
            except (OSError, KeyError):
                return
            self.stopping.wait(self.period)


def main():
    b.need("wrk")
    tmp = b.temp_dir("memory")
    data = b.make_data_dir(tmp)
    b.seed_class(data, students=("eleve1",), teacher="prof1")
    server = b.Relais(data, extra_args=["--max-upload-mb", str(BIG_MB + 100)])
    time.sleep(1.0)
    idle = b.proc_status(server.pid)
    b.say(f"memory idle after start: VmRSS {idle['VmRSS'] / 1024:.1f} MB, VmHWM {idle['VmHWM'] / 1024:.1f} MB")
    b.record("memory idle after start (VmRSS)", round(idle["VmRSS"] / 1024, 1), "MB", 20, "<",
             note=f"VmHWM {idle['VmHWM'] / 1024:.1f} MB")

    token = b.login(server.port, "prof1")
    after_login = b.proc_status(server.pid)
    b.say(f"memory after one login (one Argon2id hash, 19 MiB): VmRSS {after_login['VmRSS'] / 1024:.1f} MB, "
          f"VmHWM {after_login['VmHWM'] / 1024:.1f} MB")
    big = os.path.join(tmp, "cours-video.mp4")
    size = BIG_MB << 20
    t0 = time.monotonic()
    make_big_file(big, size)
    b.say(f"memory: wrote a {size >> 20} MiB test file in {time.monotonic() - t0:.1f} s")
    t0 = time.monotonic()
    info = upload_with_curl(server.port, token, big)
    took = time.monotonic() - t0
    after_upload = b.proc_status(server.pid)
    b.say(f"memory: uploaded {info['size']} bytes ({info['content_type']}) in {took:.1f} s "
          f"({size / took / 1e6:.0f} MB/s); server VmRSS {after_upload['VmRSS'] / 1024:.1f} MB, "
          f"VmHWM {after_upload['VmHWM'] / 1024:.1f} MB")
    b.record(f"memory after the {BIG_MB} MiB upload (VmHWM)", round(after_upload["VmHWM"] / 1024, 1), "MB",
             note=f"upload {took:.1f} s; VmHWM after the login alone {after_login['VmHWM'] / 1024:.1f} MB")
    os.remove(big)  # the store holds its own copy

    path = f"/api/v1/files/{info['id']}"
    st, hdrs, body = b.request(server.port, "GET", path,
                               headers={"Authorization": f"Bearer {token}", "Range": "bytes=4-11"})
    if st != 206 or body != b"ftypisom":
        raise RuntimeError(f"a range request returned HTTP {st} {body[:20]!r}")

    b.wait_quiet()
    sampler = Sampler(server.pid)
    sampler.start()
    r = b.wrk(f"{server.base}{path}", CONNS, DURATION, headers=[f"Authorization: Bearer {token}"],
              script=os.path.join(b.HERE, "wrk_ranges.lua"), env_extra={"RANGE_FILE_SIZE": str(size)},
              timeout_s=30, server_pid=server.pid)
    sampler.stopping.set()
    sampler.join(timeout=5)
    end = b.proc_status(server.pid)
    peak = max(sampler.samples) if sampler.samples else end["VmRSS"]
    b.say(f"memory c={CONNS} range readers of {BIG_MB} MiB for {DURATION} s: {r['rps']:.0f} req/s, "
          f"{r['mbps']:.0f} MB/s, p99 {r['p99_ms']:.0f} ms; server VmRSS max {peak / 1024:.1f} MB over "
          f"{len(sampler.samples)} samples, VmRSS at end {end['VmRSS'] / 1024:.1f} MB, "
          f"VmHWM {end['VmHWM'] / 1024:.1f} MB{b.cpu_note(r)}{b.error_note(r)}")
    errors = sum(r["errors"].values())
    b.record(f"memory under {CONNS} range readers (max VmRSS)", round(peak / 1024, 1), "MB", 64, "<",
             note=f"{r['mbps']:.0f} MB/s" + (f", {errors} errors" if errors else ""))
    server.stop()


if __name__ == "__main__":
    main()
