"""python -m inbox"""

from inbox.app import build_app
from inbox.settings import InboxSettings
from shared.service import run

if __name__ == "__main__":
    run(build_app(InboxSettings()))
