# steps: canonical,imports,aliases
# `UnifiedWebSocketManager as WebSocketManager` becomes the same import as the one before it, but it
# imported another name, and nothing in this file says the two names are one object: the later import
# stays, rewritten in place, and still binds the name where it did.
from netra_backend.app.websocket_core.manager import WebSocketManager

FIRST = WebSocketManager

from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager as WebSocketManager

SECOND = WebSocketManager
