# `import a.b.legacy` binds `a`, and so does the import of another module below `a`: a second import of the
# legacy module after one of another module binds `a` again there, so it is rewritten in place, not dropped
# as a duplicate of the first.
import netra_backend.app.websocket_core.manager
import netra_backend.app.services.notifier
import netra_backend.app.websocket_core.manager

MANAGER = netra_backend.app.websocket_core.manager.WebSocketManager
NOTIFIER = netra_backend.app.services.notifier


def inline():
    import netra_backend.app.websocket_core.manager
    import json, netra_backend.app.services.notifier
    import json, netra_backend.app.websocket_core.manager
    return json.dumps(netra_backend.app.websocket_core.manager.WebSocketManager.__name__)
