#!/usr/bin/env python3
# bench/summary.py RESULTS.jsonl — prints the table of figures recorded by the
# benchmarks (benchlib.record): target, measured, PASS/MISS, notes.
import json
import sys


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float) and v != int(v):
        return f"{v:,.2f}"
    return f"{int(v):,}"


def main():
    rows = []
    with open(sys.argv[1]) as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    if not rows:
        print("no figures recorded")
        return
    table = [("benchmark", "target", "measured", "result", "notes")]
    for r in rows:
        target = f"{'>=' if r['op'] == '>=' else '<'} {fmt(r['target'])} {r['unit']}" if r["target"] is not None else ""
        measured = f"{fmt(r['value'])} {r['unit']}"
        result = "" if r["pass"] is None else ("PASS" if r["pass"] else "MISS")
        table.append((r["name"], target, measured, result, r["note"]))
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    print("== summary")
    for i, row in enumerate(table):
        print("  ".join(row[j].ljust(widths[j]) for j in range(4)) + ("  " + row[4] if row[4] else ""))
        if i == 0:
            print("  ".join("-" * w for w in widths) + "  -----")
    judged = [r for r in rows if r["pass"] is not None]
    print(f"\n{sum(r['pass'] for r in judged)} of {len(judged)} targets met")


if __name__ == "__main__":
    main()
