#!/usr/bin/env python3
# bench/homework_list.py — a student's authenticated homework list, 20 entries.
#
# Seeds a class, a teacher and a student through the CLI, starts `relais serve`
# (taskset -c 0), logs both in, has the teacher publish 20 homework entries due
# over the next weeks, checks that the student's GET /api/v1/homework returns
# the 20, then runs `wrk -t1 -cN -dDs --latency` (taskset -c 1) with the
# student's Authorization: Bearer header at 32 and at 200 keep-alive connections.
# Target (issue 2): >= 10,000 req/s and p99 < 25 ms at 200 connections.
# Also measures GET /api/v1/me (authenticated, no table read: the session is
# cached) on the same server, as the floor of any authenticated request.
#
# Environment: RELAIS (binary), BENCH_DURATION (seconds per run, default 10).

import datetime
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

ENTRIES = 20
DURATION = int(os.environ.get("BENCH_DURATION", "10"))


def main():
    b.need("wrk")
    tmp = b.temp_dir("homework")
    data = b.make_data_dir(tmp)
    b.seed_class(data, students=("eleve1",), teacher="prof1")
    server = b.Relais(data)
    port = server.port
    teacher = b.login(port, "prof1")
    student = b.login(port, "eleve1")
    classes = b.api_json(port, "GET", "/api/v1/classes", token=teacher)["classes"]
    class_id = classes[0]["id"]
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    subjects = ["Mathématiques", "Français", "Histoire-géographie", "Anglais", "SVT", "Physique-chimie"]
    for i in range(ENTRIES):
        due = (now + datetime.timedelta(days=1 + (i * 35) // ENTRIES, hours=8)).strftime("%Y-%m-%dT%H:%M:%SZ")
        b.api_json(port, "POST", "/api/v1/homework", {
            "class_id": class_id,
            "subject": subjects[i % len(subjects)],
            "title": f"Exercices {i + 1} : chapitre {3 + i // 4}, page {40 + 2 * i}",
            "instructions": f"Faire les exercices {i + 1} à {i + 6} page {40 + 2 * i}. "
                            "Rédiger proprement et justifier chaque réponse. Apporter le cahier.",
            "due_at": due,
            "published": True,
        }, token=teacher, expect=(201,))
    status, _, body = b.request(port, "GET", "/api/v1/homework", headers={"Authorization": f"Bearer {student}"})
    listed = json.loads(body).get("homework", []) if status == 200 else []
    if status != 200 or len(listed) != ENTRIES:
        raise RuntimeError(f"the student's list has {len(listed)} entries (HTTP {status}), expected {ENTRIES}")
    b.say(f"homework_list: seeded {ENTRIES} entries; one response is {len(body)} bytes of JSON")

    url = f"{server.base}/api/v1/homework"
    auth = f"Authorization: Bearer {student}"
    b.wrk(url, 32, 2, headers=[auth])  # warm-up: caches, the session cache, the page cache
    results = {}
    for conns in (32, 200):
        b.wait_quiet()
        perf = b.perf_start(server.pid, f"homework_list-c{conns}", max(1, DURATION - 2))
        r = b.wrk(url, conns, DURATION, headers=[auth], server_pid=server.pid)
        b.perf_wait(perf)
        results[conns] = r
        b.say(f"homework_list c={conns}: {r['rps']:.0f} req/s, p50 {r['p50_ms']:.2f} ms, "
              f"p90 {r['p90_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, max {r['max_ms']:.1f} ms, "
              f"{r['mbps']:.1f} MB/s{b.cpu_note(r)}{b.error_note(r)}")
    # The same server's floor for an authenticated request that touches no table (the session
    # is cached): how much of the homework list's cost is the list itself.
    me = f"{server.base}/api/v1/me"
    for conns in (32, 200):
        b.wait_quiet()
        r = b.wrk(me, conns, max(3, DURATION // 2), headers=[auth], server_pid=server.pid)
        results[f"me{conns}"] = r
        b.say(f"reference GET /api/v1/me c={conns}: {r['rps']:.0f} req/s, p50 {r['p50_ms']:.2f} ms, "
              f"p99 {r['p99_ms']:.2f} ms{b.cpu_note(r)}{b.error_note(r)}")
    rss = b.proc_status(server.pid)
    b.say(f"homework_list: server VmRSS {rss['VmRSS'] / 1024:.1f} MB, VmHWM {rss['VmHWM'] / 1024:.1f} MB after the runs")
    server.stop()

    r32, r200 = results[32], results[200]
    b.record("homework_list c=32 req/s", round(r32["rps"]), "req/s",
             note=f"no target; server CPU {r32['server_cpu']:.2f} core")
    b.record("homework_list c=32 p99", round(r32["p99_ms"], 2), "ms", note="reported, no target")
    errors = sum(r200["errors"].values())
    b.record("homework_list c=200 req/s", round(r200["rps"]), "req/s", 10000, ">=",
             note=f"server CPU {r200['server_cpu']:.2f} core" + (f", {errors} errors" if errors else ""))
    for conns in (32, 200):
        r = results[f"me{conns}"]
        b.record(f"reference GET /api/v1/me c={conns}", round(r["rps"]), "req/s",
                 note=f"no target; p99 {r['p99_ms']:.1f} ms")
    b.record("homework_list c=200 p99", round(r200["p99_ms"], 2), "ms", 25, "<")


if __name__ == "__main__":
    main()
