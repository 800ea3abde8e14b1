#!/usr/bin/env python3
# bench/sync_files.py — files' bytes through sync (issue 4): memory on the box
# during a 1 GiB transfer (flat), throughput, and bytes resent after a cut.
#
# 1. Starts `relais-hub serve` on 127.0.0.1 (a fresh SQLite gateway) and enrols
#    two boxes, A and B, with one-time codes.
# 2. For each size (BENCH_SYNC_SIZES, default "100 1024" MiB): uploads an
#    MP4-looking file of that size to box A through `relais serve` and
#    `POST /api/v1/files`, stops the server, then runs `relais sync` on A
#    (box → gateway) and on B (gateway → box) under /usr/bin/time -v: the peak
#    RSS (VmHWM) of each `relais sync`, wall time and MB/s. B's copy is checked
#    byte for byte (SHA-256).
# 3. The cut: a fresh file (BENCH_SYNC_CUT_MB, default 256 MiB) on A; `relais
#    sync` on A is killed with SIGKILL once the gateway holds half its chunks;
#    a second `relais sync` finishes. Bytes resent = what the second run sent
#    minus what the gateway still lacked after the kill.
# Everything runs in one temporary folder on 127.0.0.1 and is stopped at exit.
import hashlib
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

SIZES = [int(s) for s in os.environ.get("BENCH_SYNC_SIZES", "100 1024").split()]
CUT_MB = int(os.environ.get("BENCH_SYNC_CUT_MB", "256"))
MiB = 1 << 20


def env():
    e = {k: v for k, v in os.environ.items() if not k.startswith("RELAIS_")}
    e["RELAIS_MAX_UPLOAD_MB"] = str(max(SIZES + [CUT_MB]) + 100)  # the box's and the gateway's file limit
    return e


def run_hub(*args, timeout=1800):
    return run(*args, timeout=timeout, binary=b.hub_binary())


def run(*args, timeout=1800, binary=None):
    r = subprocess.run([binary or b.relais_binary(), *args], capture_output=True, text=True, timeout=timeout, env=env())
    if r.returncode != 0:
        raise RuntimeError(f"relais {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()[-500:]}")
    return r.stdout


def timed_sync(data):
    """`relais sync --data DATA` under /usr/bin/time -v: (stdout, seconds, peak RSS MiB)."""
    start = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-v", b.relais_binary(), "sync", "--data", data], capture_output=True,
                       text=True, timeout=3600, env=env())
    took = time.monotonic() - start
    if r.returncode != 0:
        raise RuntimeError(f"relais sync: exit {r.returncode}: {r.stderr.strip()[-800:]}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
    return r.stdout, took, int(m.group(1)) / 1024 if m else None


def make_file(path, size):
    return b.random_file(path, size, b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41")


def upload_to_box(data, path):
    server = b.Relais(data, cpus="", env_extra={"RELAIS_MAX_UPLOAD_MB": env()["RELAIS_MAX_UPLOAD_MB"]})
    try:
        token = b.login(server.port, "prof.video")
        argv = ["curl", "-sS", "--max-time", "1200", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-T", path,
                "-H", "Expect:", "-H", "Content-Type: video/mp4", "-H", "X-Filename: cours.mp4",
                "-H", f"Authorization: Bearer {token}", f"{server.base}/api/v1/files"]
        code = subprocess.run(argv, capture_output=True, text=True, timeout=1300).stdout.strip()
        if code != "201":
            raise RuntimeError(f"upload to box A: HTTP {code}")
    finally:
        server.stop()


def hub_chunks(hub_dir):
    n = size = 0
    for root, _, files in os.walk(os.path.join(hub_dir, "chunks")):
        for name in files:
            if len(name) == 64:
                n += 1
                size += os.path.getsize(os.path.join(root, name))
    return n, size


def sent_figures(out):
    m = re.search(r"Files: (\d+) chunks sent \((\d+) bytes\)", out)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def main():
    b.need("curl")
    tmp = b.temp_dir("sync-files")
    hub_dir, box_a, box_b = (os.path.join(tmp, n) for n in ("hub", "box-a", "box-b"))
    os.mkdir(hub_dir)
    hub_out = open(os.path.join(tmp, "hub.out"), "wb")
    hub = b.spawn([b.hub_binary(), "serve", "--data", hub_dir, "--listen", f"{b.HOST}:0"], stdout=hub_out,
                  stderr=open(os.path.join(tmp, "hub.log"), "wb"), env=env())
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
    school = run_hub("school", "add", "--data", hub_dir, "Collège du banc d'essai").strip()
    run("user", "add", "--data", box_a, "--login", "prof.video", "--role", "teacher", "--password", b.PASSWORD)
    for box in (box_a, box_b):
        code = run_hub("enrol-code", "--data", hub_dir, "--school", school).strip()
        run("sync", "enrol", "--data", box, "--hub", url, "--code", code)
    run("sync", "--data", box_a)
    run("sync", "--data", box_b)

    for mb in SIZES:
        path = os.path.join(tmp, f"video-{mb}.mp4")
        sha = make_file(path, mb * MiB)
        upload_to_box(box_a, path)
        os.remove(path)
        out_a, took_a, rss_a = timed_sync(box_a)
        out_b, took_b, rss_b = timed_sync(box_b)
        copy = os.path.join(box_b, "blobs", sha[:2], sha[2:4], sha)
        with open(copy, "rb") as f:
            h = hashlib.sha256()
            for block in iter(lambda: f.read(4 * MiB), b""):
                h.update(block)
        ok = "identical" if h.hexdigest() == sha else "DIFFERENT"
        b.say(f"sync_files: {mb} MiB box A → gateway: {took_a:.1f} s ({mb * MiB / took_a / 1e6:.0f} MB/s), "
              f"peak RSS {rss_a:.1f} MiB; gateway → box B: {took_b:.1f} s ({mb * MiB / took_b / 1e6:.0f} MB/s), "
              f"peak RSS {rss_b:.1f} MiB; B's copy {ok}")
        b.record(f"relais sync peak RSS, {mb} MiB file, box → gateway", round(rss_a, 1), "MiB")
        b.record(f"relais sync peak RSS, {mb} MiB file, gateway → box", round(rss_b, 1), "MiB")
        b.record(f"sync throughput, {mb} MiB file, box → gateway", round(mb * MiB / took_a / 1e6, 1), "MB/s")
        b.record(f"sync throughput, {mb} MiB file, gateway → box", round(mb * MiB / took_b / 1e6, 1), "MB/s")
        if ok != "identical":
            raise RuntimeError("box B's copy differs")

    # The cut at half the chunks.
    path = os.path.join(tmp, "cut.mp4")
    make_file(path, CUT_MB * MiB)
    upload_to_box(box_a, path)
    os.remove(path)
    before, _ = hub_chunks(hub_dir)
    expected = CUT_MB  # about one chunk per MiB (FastCDC average 1 MiB)
    proc = b.spawn([b.relais_binary(), "sync", "--data", box_a], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env=env())
    end = time.monotonic() + 1800
    while time.monotonic() < end and proc.poll() is None:
        if hub_chunks(hub_dir)[0] - before >= expected // 2:
            break
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    time.sleep(0.5)
    held, held_bytes = hub_chunks(hub_dir)
    out, took, _ = timed_sync(box_a)
    chunks, sent = sent_figures(out)
    after, after_bytes = hub_chunks(hub_dir)
    lacked = after_bytes - held_bytes  # plaintext bytes the gateway still lacked after the kill
    resent = sent - lacked - 41 * chunks  # a sealed chunk carries 41 bytes of nonce and tag
    b.say(f"sync_files: cut at {held - before} of {after - before} chunks ({CUT_MB} MiB file): the resumed run sent "
          f"{chunks} chunks, {sent / MiB:.1f} MiB; the gateway lacked {lacked / MiB:.1f} MiB; bytes resent "
          f"{max(resent, 0)} ({max(resent, 0) / (CUT_MB * MiB) * 100:.3f} % of the file)")
    b.record(f"bytes resent after a cut at 50 % ({CUT_MB} MiB file)", max(resent, 0), "bytes")
    b.stop(hub)


if __name__ == "__main__":
    main()
