"""What checking every page of a cache costs (fieldapp/cache_rebuild.py), against opening it.

The cache is bench_ui's: 100,000 synced records. Each round opens it as a sign-in does without
the check (the baseline), then with it (`open_cache(check=True)`: SQLCipher's
cipher_integrity_check over every page), alternating; the medians are reported. The check runs
on the network worker after sign-in, so this is time the sign-in does not wait for, except at
the sign-in after damage was found.

    python bench/bench_page_check.py [--rounds N]

Last line: one JSON object (cache_mb, open_ms, open_with_page_check_ms, page_check_ms,
page_check_ms_per_mb, ratio_open_with_check_to_open, rounds).
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import keyring  # noqa: E402
import keyring.backends.fail  # noqa: E402

import bench_ui  # noqa: E402
from fieldapp import keys, paths  # noqa: E402
from fieldapp.store import open_cache  # noqa: E402


def opened_ms(path: Path, data_key: bytes, check: bool) -> float:
    started = time.perf_counter()
    open_cache(path, data_key, check=check).close()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    data_dir = Path(tempfile.mkdtemp(prefix="bench-page-check-")) / "data"
    bench_ui.build_cache(data_dir)
    path = paths.cache_paths(data_dir)[0]
    data_key = keys.unwrap(keys.KeyStore(path).load(), bench_ui.PASSWORD)
    plain, checked = [], []
    for _ in range(args.rounds):
        plain.append(opened_ms(path, data_key, check=False))
        checked.append(opened_ms(path, data_key, check=True))
    size_mb = sum(p.stat().st_size for p in path.parent.glob("cache.db*")) / 1e6
    open_ms, with_check_ms = statistics.median(plain), statistics.median(checked)
    print(json.dumps({
        "cache_mb": round(size_mb, 1), "open_ms": round(open_ms, 1),
        "open_with_page_check_ms": round(with_check_ms, 1),
        "page_check_ms": round(with_check_ms - open_ms, 1),
        "page_check_ms_per_mb": round((with_check_ms - open_ms) / size_mb, 2),
        "ratio_open_with_check_to_open": round(with_check_ms / open_ms, 1),
        "rounds": args.rounds}))


if __name__ == "__main__":
    main()
