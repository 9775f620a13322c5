"""What one offline password guess costs a thief who holds the cache and its wrapped key.

Each guess is one fieldapp.keys.unwrap with the shipped scrypt parameters (keys.KdfParams()):
derive a key from the guessed 8-character password, then try to open the AES-GCM seal.
The baselines, in the same run: one SHA-256 of the same password (what an unsalted hash would
cost the thief) and the AES-GCM open alone (the unwrap without its key derivation). Target:
guess_s >= 0.25.

    python bench/bench_kdf.py [--guesses N]
"""

import argparse
import base64
import hashlib
import json
import os
import secrets
import statistics
import string
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fieldapp import keys
from fieldapp.errors import WrongPassword


def password8() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(8))


def timed(fn, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--guesses", type=int, default=8)
    args = parser.parse_args()
    params = keys.KdfParams()
    wrapped = keys.wrap(keys.new_data_key(), password8(), "bench.user", params)

    def guess():
        try:
            keys.unwrap(wrapped, password8())
        except WrongPassword:
            return
        raise AssertionError("a random guess opened the key")

    guess_s = timed(guess, args.guesses)

    sealed, nonce = base64.b64decode(wrapped["wrapped"]), base64.b64decode(wrapped["nonce"])
    aead = AESGCM(os.urandom(32))

    def aes_open():
        try:
            aead.decrypt(nonce, sealed, b"bench.user")
        except InvalidTag:
            pass

    guessed = password8().encode()

    def sha():
        hashlib.sha256(guessed).digest()

    aes_s = timed(aes_open, 2000)
    sha_s = timed(sha, 2000)
    guess_median = statistics.median(guess_s)
    print(json.dumps({
        "kdf": "scrypt", "n": params.n, "r": params.r, "p": params.p,
        "kdf_memory_mib": 128 * params.n * params.r // 2**20,
        "guesses": args.guesses,
        "guess_s": round(guess_median, 4), "guess_min_s": round(min(guess_s), 4),
        "guesses_per_s": round(1 / guess_median, 2),
        "aes_gcm_open_us": round(statistics.median(aes_s) * 1e6, 2),
        "sha256_us": round(statistics.median(sha_s) * 1e6, 2),
        "ratio_to_aes_gcm_open": round(guess_median / statistics.median(aes_s)),
        "ratio_to_sha256": round(guess_median / statistics.median(sha_s)),
        "meets_0_25_s": min(guess_s) >= 0.25,
    }))


if __name__ == "__main__":
    main()
