"""python -m tentacle"""

from shared.service import run
from tentacle.app import build_app
from tentacle.settings import TentacleSettings

if __name__ == "__main__":
    run(build_app(TentacleSettings()))
