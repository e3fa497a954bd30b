"""python -m den"""

from den.app import build_app
from den.settings import DenSettings
from shared.service import run

if __name__ == "__main__":
    run(build_app(DenSettings()))
