#!/usr/bin/env python3
# bench/files.py — file downloads: relais against nginx serving the same bytes.
#
# Makes a ~20 KB PDF ("%PDF-1.4\n" then random printable bytes) and a 2 MB
# JPEG (FF D8 FF E0 JFIF header then random bytes), uploads both through
# POST /api/v1/files as a teacher, checks that GET /api/v1/files/{id} returns
# them byte for byte, and writes the same bytes under an nginx root (nginx:
# one worker, sendfile on, access_log off, pinned on core 0 like relais; both
# run during the whole benchmark, and are measured one after the other).
# wrk -t1 -c64 on core 1, with the Authorization header for relais (nginx
# ignores it). Reports req/s, MB/s and the relais/nginx ratio.
# Also the web app's script (/assets/app.<hash>.js, gzip) against nginx serving the same gzip bytes.
# Targets (issue 2): >= 0.3x nginx for 20 KB and the app's script, >= 0.8x nginx for 2 MB.
#
# Environment: RELAIS, BENCH_DURATION (seconds per run, default 10),
# BENCH_FILE_CONNECTIONS (default 64).

import os
import random
import re
import string
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

DURATION = int(os.environ.get("BENCH_DURATION", "10"))
CONNS = int(os.environ.get("BENCH_FILE_CONNECTIONS", "64"))


def small_pdf(size=20 * 1024):
    rnd = random.Random(20)
    alphabet = (string.ascii_letters + string.digits + " \n").encode()
    body = bytes(rnd.choice(alphabet) for _ in range(size - 9 - 6))
    return b"%PDF-1.4\n" + body + b"\n%%EOF"


def large_jpeg(size=2 * 1024 * 1024):
    header = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return header + os.urandom(size - len(header) - 2) + b"\xff\xd9"


def measure(name, server, nginx, relais_url, relais_headers, nginx_url, target):
    """wrk against nginx, then relais, on the same bytes; records req/s and the ratio."""
    b.wrk(nginx_url, CONNS, 2)  # warm-up both
    b.wrk(relais_url, CONNS, 2, headers=relais_headers)
    b.wait_quiet()
    rn = b.wrk(nginx_url, CONNS, DURATION, headers=relais_headers, server_pid=nginx.worker_pid)
    b.wait_quiet()
    perf = b.perf_start(server.pid, name, max(1, DURATION - 2))
    rr = b.wrk(relais_url, CONNS, DURATION, headers=relais_headers, server_pid=server.pid)
    b.perf_wait(perf)
    for who, r in (("nginx", rn), ("relais", rr)):
        b.say(f"{name} {who} c={CONNS}: {r['rps']:.0f} req/s, {r['mbps']:.0f} MB/s, "
              f"p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms{b.cpu_note(r)}{b.error_note(r)}")
    ratio = rr["rps"] / rn["rps"] if rn["rps"] else 0.0
    b.say(f"{name} ratio relais/nginx: {ratio:.2f}x (target >= {target}x)")
    b.record(f"{name} relais req/s (c={CONNS})", round(rr["rps"]), "req/s",
             note=f"{rr['mbps']:.0f} MB/s, server CPU {rr['server_cpu']:.2f} core")
    b.record(f"{name} nginx req/s (c={CONNS})", round(rn["rps"]), "req/s",
             note=f"{rn['mbps']:.0f} MB/s, worker CPU {rn['server_cpu']:.2f} core")
    errors = sum(rr["errors"].values())
    b.record(f"{name} relais/nginx", round(ratio, 2), "x", target, ">=",
             note=f"{errors} relais errors" if errors else "")


def app_script_url(server):
    """The hashed URL of the web app's main script, read from the shell."""
    st, _, html = b.request(server.port, "GET", "/")
    m = re.search(rb'src="(/assets/app\.[0-9a-f]{10}\.js)"', html)
    if st != 200 or not m:
        raise RuntimeError(f"the shell (HTTP {st}) names no /assets/app.<hash>.js")
    return m.group(1).decode()


def main():
    b.need("wrk")
    b.need("nginx")
    tmp = b.temp_dir("files")
    data = b.make_data_dir(tmp)
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    os.chmod(root, 0o755)
    b.seed_class(data, students=("eleve1",), teacher="prof1")
    server = b.Relais(data)
    nginx = b.Nginx(tmp, root)
    token = b.login(server.port, "prof1")

    cases = [("file_20KB", small_pdf(), "application/pdf", "fiche.pdf", 0.3),
             ("file_2MB", large_jpeg(), "image/jpeg", "photo.jpg", 0.8)]
    for name, payload, ctype, fname, target in cases:
        info = b.upload(server.port, token, payload, ctype, fname)
        with open(os.path.join(root, fname), "wb") as f:
            f.write(payload)
        os.chmod(os.path.join(root, fname), 0o644)
        path = f"/api/v1/files/{info['id']}"
        auth = f"Authorization: Bearer {token}"
        st, hdrs, got = b.request(server.port, "GET", path, headers={"Authorization": f"Bearer {token}"})
        if st != 200 or got != payload:
            raise RuntimeError(f"{name}: relais returned HTTP {st} and {len(got)} bytes, not the upload")
        st, _, got = b.request(nginx.port, "GET", "/" + fname)
        if st != 200 or got != payload:
            raise RuntimeError(f"{name}: nginx returned HTTP {st} and {len(got)} bytes")
        b.say(f"{name}: {len(payload)} bytes, {ctype}, relais id {info['id']}")

        measure(name, server, nginx, f"{server.base}{path}", [auth], f"http://{b.HOST}:{nginx.port}/{fname}", target)

    # The web app's script as a tablet asks for it: compressed (gzip), from memory, cached a year. nginx
    # serves the same gzip bytes as a plain file.
    path = app_script_url(server)
    st, hdrs, gz = b.request(server.port, "GET", path, headers={"Accept-Encoding": "gzip"})
    if st != 200 or dict(hdrs).get("Content-Encoding") != "gzip":
        raise RuntimeError(f"{path}: HTTP {st}, not gzip")
    with open(os.path.join(root, "app.js.gz"), "wb") as f:
        f.write(gz)
    os.chmod(os.path.join(root, "app.js.gz"), 0o644)
    b.say(f"asset_app_js: {path}, {len(gz)} bytes gzip")
    measure("asset_app_js", server, nginx, f"{server.base}{path}", ["Accept-Encoding: gzip"],
            f"http://{b.HOST}:{nginx.port}/app.js.gz", 0.3)
    rss = b.proc_status(server.pid)
    b.say(f"files: server VmRSS {rss['VmRSS'] / 1024:.1f} MB, VmHWM {rss['VmHWM'] / 1024:.1f} MB after the runs")
    nginx.stop()
    server.stop()


if __name__ == "__main__":
    main()
