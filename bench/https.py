#!/usr/bin/env python3
# bench/https.py — the same requests over HTTPS: relais's own TLS against nginx's.
#
# Makes the box's certificate with `relais tls init --name localhost --ip
# 127.0.0.1`, starts `relais serve --https-listen 127.0.0.1:PORT` (taskset -c
# 0) and nginx with `ssl` on the same certificate and key (one worker, core
# 0, TLS 1.2 and 1.3, session cache). Seeds a student's homework list (20
# entries) and a 2 MB JPEG, checks both come back whole over HTTPS, then runs
# wrk -t1 (taskset -c 1) over keep-alive HTTPS connections:
#   - GET /api/v1/homework with the student's token at 200 connections
#     (nginx: a static copy of the same JSON, so the ratio is the price of
#     the application, not of TLS);
#   - GET of the 2 MB file at 64 connections, relais vs nginx.
# Handshakes are not measured here: wrk reuses its connections.
#
# Environment: RELAIS, BENCH_DURATION (seconds per run, default 10).

import datetime
import os
import ssl
import sys
import http.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402
import files  # noqa: E402

DURATION = int(os.environ.get("BENCH_DURATION", "10"))


def https_get(port, path, ca, headers=None):
    ctx = ssl.create_default_context(cafile=ca)
    conn = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=60)
    conn.request("GET", path, headers=headers or {})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, body


def nginx_tls(tmp, root, cert, key):
    """nginx like benchlib.Nginx, plus an ssl server on the same certificate."""
    n = b.Nginx(tmp, root)
    n.stop()
    n.tls_port = b.free_port()
    conf = os.path.join(tmp, "nginx", "nginx.conf")
    with open(conf) as f:
        text = f.read()
    text = text.replace("  server {", f"""  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_cache shared:SSL:1m;
  server {{
    listen {b.HOST}:{n.tls_port} ssl;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    root {root};
  }}
  server {{""", 1)
    with open(conf, "w") as f:
        f.write(text)
    prefix = os.path.join(tmp, "nginx")
    n.proc = b.spawn(["taskset", "-c", "0", "nginx", "-p", prefix, "-c", conf, "-e",
                      os.path.join(prefix, "error.log")], stdout=b.subprocess.DEVNULL, stderr=b.subprocess.DEVNULL)
    b.wait_port(n.tls_port, n.proc)
    return n


def main():
    b.need("wrk")
    b.need("nginx")
    tmp = b.temp_dir("https")
    data = b.make_data_dir(tmp)
    b.cli(data, "tls", "init", "--name", "localhost", "--ip", "127.0.0.1")
    tls = os.path.join(data, "tls")
    ca, cert, key = (os.path.join(tls, n) for n in ("ca.crt", "server.crt", "server.key"))
    os.chmod(tls, 0o755)
    os.chmod(key, 0o644)  # nginx's worker reads it too (a throwaway key)
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    os.chmod(root, 0o755)
    b.seed_class(data, students=("eleve1",), teacher="prof1")
    https_port = b.free_port()
    server = b.Relais(data, extra_args=("--https-listen", f"{b.HOST}:{https_port}"))
    b.wait_port(https_port, server.proc)
    nginx = nginx_tls(tmp, root, cert, key)
    teacher = b.login(server.port, "prof1")
    student = b.login(server.port, "eleve1")

    class_id = b.api_json(server.port, "GET", "/api/v1/classes", token=teacher)["classes"][0]["id"]
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    for i in range(20):
        due = (now + datetime.timedelta(days=1 + i, hours=8)).strftime("%Y-%m-%dT%H:%M:%SZ")
        b.api_json(server.port, "POST", "/api/v1/homework", {
            "class_id": class_id, "subject": "Mathématiques", "title": f"Exercices {i + 1}",
            "instructions": "Faire les exercices page 42. Rédiger proprement et justifier chaque réponse.",
            "due_at": due, "published": True}, token=teacher, expect=(201,))
    auth = {"Authorization": f"Bearer {student}"}
    st, listing = https_get(https_port, "/api/v1/homework", ca, auth)
    if st != 200:
        raise RuntimeError(f"homework list over HTTPS: HTTP {st}")
    with open(os.path.join(root, "homework.json"), "wb") as f:
        f.write(listing)
    jpeg = files.large_jpeg()
    info = b.upload(server.port, teacher, jpeg, "image/jpeg", "photo.jpg")
    with open(os.path.join(root, "photo.jpg"), "wb") as f:
        f.write(jpeg)
    for name in ("homework.json", "photo.jpg"):
        os.chmod(os.path.join(root, name), 0o644)
    st, got = https_get(https_port, f"/api/v1/files/{info['id']}", ca, {"Authorization": f"Bearer {teacher}"})
    if st != 200 or got != jpeg:
        raise RuntimeError(f"2 MB over HTTPS: HTTP {st}, {len(got)} bytes, not the upload")
    st, got = https_get(nginx.tls_port, "/photo.jpg", ca)
    if st != 200 or got != jpeg:
        raise RuntimeError(f"nginx over HTTPS: HTTP {st}, {len(got)} bytes")
    b.say(f"https: homework list {len(listing)} bytes, file 2 MB; both verified over TLS")

    cases = [("https_homework_list", f"/api/v1/homework", "/homework.json", f"Bearer {student}", 200),
             ("https_file_2MB", f"/api/v1/files/{info['id']}", "/photo.jpg", f"Bearer {teacher}", 64)]
    for name, path, static, bearer, conns in cases:
        relais_url = f"https://localhost:{https_port}{path}"
        nginx_url = f"https://localhost:{nginx.tls_port}{static}"
        hdr = f"Authorization: {bearer}"
        b.wrk(nginx_url, conns, 2, headers=[hdr])
        b.wrk(relais_url, conns, 2, headers=[hdr])
        b.wait_quiet()
        rn = b.wrk(nginx_url, conns, DURATION, headers=[hdr], server_pid=nginx.worker_pid)
        b.wait_quiet()
        rr = b.wrk(relais_url, conns, DURATION, headers=[hdr], server_pid=server.pid)
        for who, r in (("nginx", rn), ("relais", rr)):
            b.say(f"{name} {who} c={conns}: {r['rps']:.0f} req/s, {r['mbps']:.0f} MB/s, "
                  f"p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms{b.cpu_note(r)}{b.error_note(r)}")
        ratio = rr["rps"] / rn["rps"] if rn["rps"] else 0.0
        b.say(f"{name} ratio relais/nginx: {ratio:.2f}x")
        b.record(f"{name} relais req/s (c={conns})", round(rr["rps"]), "req/s",
                 note=f"p99 {rr['p99_ms']:.1f} ms, {rr['mbps']:.0f} MB/s")
        b.record(f"{name} nginx req/s (c={conns})", round(rn["rps"]), "req/s",
                 note=f"p99 {rn['p99_ms']:.1f} ms, {rn['mbps']:.0f} MB/s")
        b.record(f"{name} relais/nginx", round(ratio, 2), "x")
    rss = b.proc_status(server.pid)
    b.say(f"https: server VmRSS {rss['VmRSS'] / 1024:.1f} MB, VmHWM {rss['VmHWM'] / 1024:.1f} MB after the runs")
    nginx.stop()
    server.stop()


if __name__ == "__main__":
    main()
