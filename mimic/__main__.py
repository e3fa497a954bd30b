"""python -m mimic"""

from mimic.app import build_app
from mimic.settings import MimicSettings
from shared.service import run

if __name__ == "__main__":
    run(build_app(MimicSettings()))
