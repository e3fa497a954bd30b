"""python -m inkpass"""

from inkpass.app import build_app
from inkpass.settings import InkPassSettings
from shared.service import run

if __name__ == "__main__":
    run(build_app(InkPassSettings()))
