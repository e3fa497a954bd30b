"""python -m bench <name>"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = {
    "bus": "bench.bus",
    "auth": "bench.auth",
    "files": "bench.files",
    "inbox": "bench.inbox",
    "notify": "bench.notify",
    "orchestration": "bench.orchestration",
    "tentacle": "bench.orchestration",  # what the tentacle issue calls it
    "workspace": "bench.workspace",
}


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in BENCHMARKS:
        print(f"usage: python -m bench {{{','.join(sorted(BENCHMARKS))}}}", file=sys.stderr)
        return 2
    module = importlib.import_module(BENCHMARKS[argv[0]])
    result: int = module.main()
    return result


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
