"""Start the app: ``python3 app/launch.py [--port 8501] [--address 127.0.0.1]``.

The one place the server options live, used by scripts/start.sh, the
browser test and the benchmark, so they all run the same app:

- headless, no usage statistics (machines here have no internet);
- uploads capped at the limit stated on the page;
- ``client.showErrorDetails=none``: should an error ever escape the pages'
  own handling, the browser gets a generic message, never a traceback;
- no file watcher (nothing to reload in a deployed app).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent
MAIN = APP_DIR / "main.py"
MAX_UPLOAD_MB = 50   # same as app.analysis.MAX_UPLOAD_MB (not imported: keep launching free of heavy imports)

FLAGS = (
    "--server.headless=true",
    f"--server.maxUploadSize={MAX_UPLOAD_MB}",
    "--client.showErrorDetails=none",
    "--client.toolbarMode=minimal",
    "--browser.gatherUsageStats=false",
    "--server.fileWatcherType=none",
    "--theme.base=light",
)


def command(port: int = 8501, address: str = "127.0.0.1") -> list[str]:
    """The command line that serves the app on ``address:port``."""
    return [sys.executable, "-m", "streamlit", "run", str(MAIN), f"--server.port={port}",
            f"--server.address={address}", *FLAGS]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=int(os.environ.get("BEATNET_PORT", 8501)))
    ap.add_argument("--address", default=os.environ.get("BEATNET_ADDRESS", "127.0.0.1"),
                    help="0.0.0.0 to serve other machines on the network")
    args = ap.parse_args(argv)
    cmd = command(args.port, args.address)
    print(f"BEAT-Net app: http://{args.address}:{args.port}  (Ctrl+C to stop)", flush=True)
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main()
