"""Runtime code the stacks deploy, one handler package per function.

In Lambda a handler runs as the top-level module `handler`, with its layers' code on the path
(/opt/python). Imported as this package (by the tests and the operator tools) the same layer code
is put on the path here, so `from custom_resource import ...` means the same in both places.
"""

import sys
from pathlib import Path

_LAYER_CODE = str(Path(__file__).resolve().parent / "layers" / "custom_resource" / "python")
if _LAYER_CODE not in sys.path:
    sys.path.append(_LAYER_CODE)
