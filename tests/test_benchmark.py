"""The benchmark script runs (on a tiny workload); its numbers are not asserted."""

import json
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def test_benchmark_quick_run(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick",
                           "--json", str(out)], capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                               "GIT_CONFIG_GLOBAL": "/dev/null",
                               "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert proc.returncode == 0, proc.stderr
    for heading in ("1. cold check", "2. throughput", "3. one lore day", "4. scaling",
                    "5. checkpatch.pl"):
        assert heading in proc.stdout
    numbers = json.loads(out.read_text())
    assert numbers["tree"]["patches"] == 20 and numbers["hunks"]["patches"] == 20
    assert numbers["day"]["exit"] == 0 and numbers["day"]["again_exit"] == 0
    assert "0 reviewed" in numbers["day"]["again_summary"]


@pytest.mark.skipif(shutil.which("perl") is None, reason="perl is not installed")
def test_benchmark_side_by_side_with_a_stand_in_checkpatch(tmp_path):
    """A tiny script with checkpatch.pl's command line stands in for the real one."""
    fake = tmp_path / "checkpatch.pl"
    fake.write_text("my $n = grep { !/^--/ } @ARGV; print \"total: 0 errors\\n\"; exit 0;\n")
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick",
                           "--checkpatch", str(fake)], capture_output=True, text=True,
                          timeout=300, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                                            "GIT_CONFIG_GLOBAL": "/dev/null"})
    assert proc.returncode == 0, proc.stderr
    assert "5. checkpatch.pl --no-tree --terse" in proc.stdout
    assert "reviewbot/checkpatch" in proc.stdout
