"""The child process of ``index.embedding.export_child``: export one model's ONNX graph here, then exit.

    python -m index.embedding.export_main MODEL BACKEND EXPORT_DIR
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from index.embedding.export_child import FAILED
from index.embedding.model import Embedder
from index.errors import Unavailable

log = logging.getLogger(__name__)


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    model, backend, export_dir = argv
    try:
        Embedder(model, backend=backend, export_dir=Path(export_dir)).export()
    except Unavailable as exc:
        reason = " ".join(str(exc).split())
    except Exception as exc:
        log.debug("export failed", exc_info=True)
        reason = (f"cannot export embedding model {model!r} to ONNX: {' '.join(str(exc).split()).rstrip('.')}."
                  ' Set [embedding] backend = "torch" to use PyTorch.')
    else:
        return 0
    sys.stderr.write(f"\n{FAILED}{reason}\n")
    return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
