"""python -m tentacle"""

import gc

from shared.service import run
from tentacle.app import build_app
from tentacle.settings import TentacleSettings

if __name__ == "__main__":
    # Every step allocates thousands of short-lived objects, nearly none of them cyclic: with
    # the default thresholds the cycle collector ran often enough to cost ~8% of a replica's
    # CPU. Objects alive at start are frozen out of collection altogether.
    app = build_app(TentacleSettings())
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 50)
    run(app)
