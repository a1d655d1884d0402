"""Time and peak memory of `python -m bot import --dry-run` on a large CRM export. A benchmark, not a test.

    python bench/import_memory.py [--rows 400000] [--database-url URL]

Writes a HubSpot-style export (three contacts per company, 20 owners given as Slack ids, so no
Slack is needed) to a temporary file, then runs the real command line on it in a child process and
reports its wall-clock time and peak resident memory (the child's own, from getrusage). Issue 17
item 20 measured 15.6 s and 670 MB for 400,000 rows before the reader streamed the file.
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("Lead", "Marketing Qualified Lead", "Opportunity", "Customer", "Other")


def write_export(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(
            "Record ID,First Name,Last Name,Job Title,Company Name,Contact owner,Lifecycle Stage,"
            "Lead Status,Create Date,Last Activity Date,Number of Sales Activities\n"
        )
        for n in range(rows):
            company = n // 3
            stage = STAGES[company % 4] if company % 50 else "Unqualified"
            created = date(2025, 1, 1) + timedelta(days=company % 600)
            last = date(2026, 11, 20) - timedelta(days=company % 120)
            out.write(
                f"{n},Pat,No{n},Director,Company {company:06},U0REP{company % 20:03},{stage},In Progress,"
                f"{created} 09:00,{last} 14:30,{n % 9}\n"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary directory")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="baton-import-memory-"))
    export = folder / "contacts.csv"
    write_export(export, args.rows)
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url or f"sqlite:///{folder / 'bench.db'}",
        "SLACK_BOT_TOKEN": "",
        "SLACK_SIGNING_SECRET": "",
        "SLACK_APP_TOKEN": "",
    }
    command = [sys.executable, "-m", "bot", "import", str(export), "--team", "T0BENCH", "--dry-run"]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # Linux: KiB
    size_mb = export.stat().st_size / 1e6
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr.strip()[-300:]
    print(f"{args.rows:,} rows ({size_mb:.1f} MB file): {seconds:.1f} s, peak {peak_kib / 1024:.0f} MB")
    print(f"exit {done.returncode}: {last}")


if __name__ == "__main__":
    main()
