# A duplicate of an earlier import in the same block goes: nothing between the two binds the name again,
# or only another copy of the same import does (here in an `if` block).
import sys

import netra_backend.app.websocket_core.manager
import netra_backend.app.websocket_core.manager
from netra_backend.app.websocket_core.manager import WebSocketManager
if sys.argv:
    from netra_backend.app.websocket_core.manager import WebSocketManager
from netra_backend.app.websocket_core.manager import WebSocketManager
import netra_backend.app.websocket_core.manager

MANAGERS = (WebSocketManager, netra_backend.app.websocket_core.manager.WebSocketManager)


def inline():
    from netra_backend.app.websocket_core.manager import get_websocket_manager
    from netra_backend.app.websocket_core.manager import get_websocket_manager
    return get_websocket_manager
