#!/usr/bin/env python3
"""reviewbot's speed and memory, measured on generated real-kernel workloads.

    python3 benchmarks/run.py                  # the full run (a few minutes)
    python3 benchmarks/run.py --quick          # a tiny workload (the test suite runs this)
    CHECKPATCH=~/linux/scripts/checkpatch.pl python3 benchmarks/run.py   # side by side

Sections (see README "Performance"):
  1. cold `reviewbot check <one patch> --tree <tree> --format json`: median wall
     time and peak RSS of the whole process over N runs;
  2. throughput: patches per second and peak RSS of one process checking a
     generated corpus, with tree context and with hunks only;
  3. one simulated lore day: a fake public-inbox server on 127.0.0.1 with
     ~3,000 messages (~1,000 patches in 300 series, replies, pull requests)
     and one `reviewbot watch` pass in outbox mode; then the same pass again;
  4. scaling: throughput at 100, 1,000 and 10,000 patches and one 500-patch
     series, with the fitted cost per patch;
  5. checkpatch.pl on the same patches, when $CHECKPATCH or --checkpatch
     names it.
Targets are printed next to the numbers; nothing here fails on a miss.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import workload

TARGETS = {
    "cold_wall": 0.25, "cold_rss_mb": 60, "tree_rate": 100, "hunks_rate": 300,
    "day_wall": 60, "day_requests_per_series": 2,
}


# -- measuring child processes --------------------------------------------

class Spawner:
    """Starts the measured processes from a small helper process.

    Linux keeps a process's peak RSS across fork and exec, so a child forked
    from this (large) benchmark process would report at least this process's
    size.  The helper is started first, while this process is small, and
    forks every measured command itself.
    """

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", _SPAWNER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def run(self, cmd: list[str], env=None) -> tuple[float, float, int, bytes]:
        """(wall seconds, the child's own peak RSS in MB, exit status, stdout)."""
        self.proc.stdin.write(json.dumps({"cmd": cmd, "env": env}) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        return answer["wall"], answer["rss_mb"], answer["code"], answer["out"].encode()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


_SPAWNER = """
import json, os, subprocess, sys, time
for line in sys.stdin:
    req = json.loads(line)
    started = time.perf_counter()
    proc = subprocess.Popen(req["cmd"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env=req["env"])
    out = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    print(json.dumps({"wall": time.perf_counter() - started, "rss_mb": usage.ru_maxrss / 1024,
                      "code": os.waitstatus_to_exitcode(status),
                      "out": out.decode("utf-8", "replace")}), flush=True)
"""
SPAWNER: Spawner | None = None


def reviewbot_command() -> list[str]:
    script = Path(sys.executable).with_name("reviewbot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


# -- 1. cold check --------------------------------------------------------

def sample() -> tuple[str, Path, Path]:
    case = workload.SHARED_CASES / "01-kvm-mmio-caching-clobber"
    if case.is_dir():
        return "real patch (shared case 01)", case / "patch.mbox", case / "tree"
    return "shipped example", ROOT / "examples" / "frobnic-turbo.mbox", ROOT / "examples" / "tree"


def bench_cold(runs: int) -> dict:
    name, patch, tree = sample()
    cmd = reviewbot_command() + ["check", str(patch), "--tree", str(tree), "--format", "json"]
    results = [SPAWNER.run(cmd) for _ in range(runs)]
    codes = {r[2] for r in results}
    return {"sample": name, "runs": runs, "wall": statistics.median(r[0] for r in results),
            "rss_mb": statistics.median(r[1] for r in results), "exit": sorted(codes)}


# -- 2. and 4. throughput -------------------------------------------------

def worker_throughput(args) -> None:
    """Runs in a child process: check every mbox in --dir, print one JSON line."""
    import resource

    from bot import config, report
    from bot.checker import review_messages
    from bot.inputs import messages_from_bytes

    cfg = config.Config(config.defaults())
    if args.tree:
        cfg = cfg.with_value("source", "tree", args.tree)
    files = sorted(Path(args.dir).glob("*.mbox"))
    findings = patches = 0
    started = time.perf_counter()
    for path in files:
        review = review_messages(messages_from_bytes(path.read_bytes(), path.name), cfg,
                                 grouping="local")
        report.render_json(review)
        findings += len(review.findings)
        patches += len(review.series.patches)
    seconds = time.perf_counter() - started
    print(json.dumps({"patches": patches, "seconds": seconds, "findings": findings,
                      "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def throughput(corpus: Path, tree: Path | None) -> dict:
    cmd = [sys.executable, __file__, "--worker", "throughput", "--dir", str(corpus)]
    if tree is not None:
        cmd += ["--tree", str(tree)]
    wall, _rss, code, out = SPAWNER.run(cmd)
    if code != 0:
        raise SystemExit(f"throughput worker failed (exit {code})")
    result = json.loads(out.decode().strip().splitlines()[-1])
    result["rate"] = result["patches"] / result["seconds"]
    result["process_wall"] = wall
    return result


def write_corpus(dest: Path, mails: list[bytes]) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for i, data in enumerate(mails):
        (dest / f"{i:06d}.mbox").write_bytes(data)
    return dest


def fit(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least-squares seconds = a + b * patches: (a, b)."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    b = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x in xs)
    return my - b * mx, b


# -- 3. a simulated lore day ----------------------------------------------

def build_day(lore, gen: workload.Generator, series: int, now: float) -> dict:
    """~10 messages per series: the patches, a cover when n > 1, replies, pulls."""
    import email.utils

    rng = gen.rng
    counts = {"patches": 0, "covers": 0, "replies": 0, "pulls": 0}
    for s in range(series):
        n = rng.choice([1, 1, 2, 3, 3, 4, 5, 6])
        when = now - 86400 + 600 + s * (86400 - 7200) / series  # inside the day
        date = email.utils.formatdate(when, usegmt=True)
        mails = gen.series(n, f"day{s}", date=date)
        for raw in mails:
            lore.archive.add(raw.split(b"\n", 1)[1], "bench", received=when)
        counts["patches"] += n
        counts["covers"] += n > 1
        root = f"day{s}-0@example.org" if n > 1 else f"day{s}-1@example.org"
        for r in range(rng.randint(3, 8)):
            lore.archive.add(_reply(f"day{s}-re{r}@example.org", root, date), "bench",
                             received=when + 60 * (r + 1))
            counts["replies"] += 1
        if s % 10 == 0:
            lore.archive.add(_pull(f"day{s}-pull@example.org", date), "bench", received=when)
            counts["pulls"] += 1
    counts["messages"] = sum(counts.values())
    return counts


def _reply(msgid: str, parent: str, date: str) -> bytes:
    return (f"From: Reviewer <rev@example.org>\nDate: {date}\nMessage-Id: <{msgid}>\n"
            f"In-Reply-To: <{parent}>\nReferences: <{parent}>\n"
            f"Subject: Re: [PATCH] bench\nTo: bench@lists.example.org\n\n"
            f"> +\tsomething = 1;\n\nWhy is this needed?\n").encode()


def _pull(msgid: str, date: str) -> bytes:
    return (f"From: Maintainer <maint@example.org>\nDate: {date}\nMessage-Id: <{msgid}>\n"
            f"Subject: [GIT PULL] bench fixes\nTo: torvalds@example.org\n\n"
            f"The following changes since commit 0000:\n").encode()


def bench_day(series: int, gen: workload.Generator, tree: Path, scratch: Path) -> dict:
    from tests.fakelore import FakeLore

    now = time.time()
    with FakeLore() as lore:
        counts = build_day(lore, gen, series, now)
        state = scratch / f"state-{series}"
        cfg = scratch / f"watch-{series}.toml"
        cfg.write_text(f"""
[lore]
url = "{lore.url}"
[cache]
dir = "{scratch / 'cache'}"
[source]
tree = "{tree}"
[watch]
lists = ["bench"]
start = "1d"
[state]
dir = "{state}"
[post]
max_per_hour = 100000
""")
        env = {**os.environ, "XDG_CACHE_HOME": str(scratch / "xdg-cache"),
               "GIT_CONFIG_GLOBAL": os.devnull}
        cmd = reviewbot_command() + ["-c", str(cfg), "watch"]
        wall, rss, code, out = SPAWNER.run(cmd, env=env)
        requests = len(lore.archive.requests)
        wall2, rss2, code2, out2 = SPAWNER.run(cmd, env=env)
        requests2 = len(lore.archive.requests) - requests
    searches = sum(1 for m, _p in lore.archive.requests[:requests] if m == "POST")
    return {**counts, "series": series, "wall": wall, "rss_mb": rss, "exit": code,
            "summary": out.decode().strip().splitlines()[-1] if out else "",
            "requests": requests, "searches": searches,
            "requests_per_series": requests / series,
            "again_wall": wall2, "again_rss_mb": rss2, "again_requests": requests2,
            "again_summary": out2.decode().strip().splitlines()[-1] if out2 else "",
            "again_exit": code2}


# -- 5. checkpatch --------------------------------------------------------

def bench_checkpatch(script: str, single: Path, corpus: Path, runs: int) -> dict:
    base = ["perl", script, "--no-tree", "--terse", "--quiet"]
    one = [SPAWNER.run(base + [str(single)]) for _ in range(runs)]
    files = sorted(str(p) for p in corpus.glob("*.mbox"))
    started = time.perf_counter()
    for chunk in range(0, len(files), 200):
        subprocess.run(base + files[chunk:chunk + 200], capture_output=True)
    many = time.perf_counter() - started
    return {"wall": statistics.median(r[0] for r in one),
            "rss_mb": statistics.median(r[1] for r in one),
            "patches": len(files), "seconds": many, "rate": len(files) / many}


# -- the report -----------------------------------------------------------

def mark(value: float, target: float, below: bool = True) -> str:
    ok = value <= target if below else value >= target
    return f"{'meets' if ok else 'MISSES'} target {'<' if below else '>='} {target:g}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a tiny workload, for tests")
    parser.add_argument("--checkpatch", default=os.environ.get("CHECKPATCH"), metavar="PATH",
                        help="scripts/checkpatch.pl of a kernel checkout (default: $CHECKPATCH)")
    parser.add_argument("--json", metavar="FILE", help="also write the numbers as JSON")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    parser.add_argument("--tree", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "throughput":
        worker_throughput(args)
        return 0

    global SPAWNER
    SPAWNER = Spawner()
    q = args.quick
    runs, n_main, sizes, long_series, day_series = (
        (2, 20, (10, 20), 10, 6) if q else (11, 1000, (100, 1000, 10000), 500, 300))
    scratch = Path(tempfile.mkdtemp(prefix="reviewbot-bench-"))
    results: dict = {}
    try:
        origin, files = workload.source_files()
        tree = scratch / "tree"
        base = workload.make_tree(tree, files)
        gen = workload.Generator(files, base)
        print(f"reviewbot benchmark: workload from {origin} ({len(files)} files, "
              f"{sum(t.count(chr(10)) for t in files.values())} lines); "
              f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")

        results["cold"] = cold = bench_cold(runs)
        print(f"\n1. cold check, one patch ({cold['sample']}, median of {runs})")
        print(f"   wall {cold['wall']:.3f} s ({mark(cold['wall'], TARGETS['cold_wall'])}), "
              f"peak RSS {cold['rss_mb']:.1f} MB ({mark(cold['rss_mb'], TARGETS['cold_rss_mb'])})")

        corpus = write_corpus(scratch / f"corpus-{n_main}", gen.patches(n_main))
        results["tree"] = t = throughput(corpus, tree)
        results["hunks"] = h = throughput(corpus, None)
        print(f"\n2. throughput, {t['patches']} patches in one process")
        print(f"   with tree:  {t['rate']:.0f} patches/s, peak RSS {t['rss_mb']:.1f} MB, "
              f"{t['findings']} findings ({mark(t['rate'], TARGETS['tree_rate'], False)})")
        print(f"   hunks only: {h['rate']:.0f} patches/s, peak RSS {h['rss_mb']:.1f} MB, "
              f"{h['findings']} findings ({mark(h['rate'], TARGETS['hunks_rate'], False)})")

        results["day"] = d = bench_day(day_series, gen, tree, scratch)
        print(f"\n3. one lore day: {d['messages']} messages ({d['patches']} patches in "
              f"{d['series']} series, {d['covers']} covers, {d['replies']} replies, "
              f"{d['pulls']} pull requests)")
        print(f"   first pass:  {d['wall']:.1f} s ({mark(d['wall'], TARGETS['day_wall'])}), "
              f"peak RSS {d['rss_mb']:.1f} MB, {d['requests']} HTTP requests "
              f"({d['searches']} searches) = {d['requests_per_series']:.2f} per series "
              f"({mark(d['requests_per_series'], TARGETS['day_requests_per_series'])})")
        print(f"   {d['summary']}")
        print(f"   second pass: {d['again_wall']:.1f} s, peak RSS {d['again_rss_mb']:.1f} MB, "
              f"{d['again_requests']} HTTP requests")
        print(f"   {d['again_summary']}")
        third = bench_day(max(2, day_series // 3), workload.Generator(files, base, seed=2),
                          tree, scratch)
        results["day_third"] = third
        print(f"   memory: {third['rss_mb']:.1f} MB for {third['messages']} messages, "
              f"{d['rss_mb']:.1f} MB for {d['messages']}")

        print("\n4. scaling (with tree, one process)")
        points = []
        for size in sizes:
            c = write_corpus(scratch / f"scale-{size}",
                             workload.Generator(files, base, seed=size).patches(size))
            r = throughput(c, tree)
            points.append((r["patches"], r["seconds"]))
            print(f"   {r['patches']:6d} patches: {r['seconds']:7.2f} s, {r['rate']:.0f}/s, "
                  f"peak RSS {r['rss_mb']:.1f} MB")
            shutil.rmtree(c)
        a, b = fit(points)
        results["scaling"] = {"points": points, "intercept": a, "per_patch": b}
        s = write_corpus(scratch / "series", [b"".join(gen.series(long_series, "long"))])
        r = throughput(s, tree)
        results["series"] = r
        print(f"   fitted: {b * 1000:.2f} ms per patch + {a:.2f} s; one {long_series}-patch "
              f"series: {r['seconds']:.2f} s ({r['seconds'] / long_series * 1000:.2f} ms per "
              f"patch), peak RSS {r['rss_mb']:.1f} MB")

        if args.checkpatch:
            _n, single, _t = sample()
            c = bench_checkpatch(args.checkpatch, single, corpus, runs)
            results["checkpatch"] = c
            print(f"\n5. checkpatch.pl --no-tree --terse ({args.checkpatch})")
            print(f"   one patch: {c['wall']:.3f} s, {c['rss_mb']:.1f} MB; reviewbot/checkpatch "
                  f"wall {cold['wall'] / c['wall']:.2f}x, RSS {cold['rss_mb'] / c['rss_mb']:.2f}x")
            print(f"   {c['patches']} patches: {c['rate']:.0f} patches/s; reviewbot/checkpatch "
                  f"time {c['rate'] / t['rate']:.2f}x (with tree), {c['rate'] / h['rate']:.2f}x "
                  "(hunks only)")
        else:
            print("\n5. checkpatch.pl: not run (set $CHECKPATCH or --checkpatch to a kernel "
                  "checkout's scripts/checkpatch.pl)")
    finally:
        SPAWNER.close()
        shutil.rmtree(scratch, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
