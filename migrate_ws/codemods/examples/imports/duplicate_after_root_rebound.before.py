# A second `import a.b.legacy` binds `a` again after something else may have: a `del`, an assignment, a
# loop target, a function that declares it global (called in between). It is rewritten in place, never
# dropped as a duplicate of the first.
import netra_backend.app.websocket_core.manager


def reset():
    global netra_backend
    netra_backend = None


reset()
import netra_backend.app.websocket_core.manager

MANAGER = netra_backend.app.websocket_core.manager.WebSocketManager


def after_del():
    import netra_backend.app.websocket_core.manager
    first = netra_backend.app.websocket_core.manager.WebSocketManager
    del netra_backend
    import netra_backend.app.websocket_core.manager
    return first, netra_backend.app.websocket_core.manager.WebSocketManager


def after_assignment():
    import netra_backend.app.websocket_core.manager
    netra_backend = None
    import netra_backend.app.websocket_core.manager
    return netra_backend.app.websocket_core.manager.WebSocketManager


def after_loop():
    import netra_backend.app.websocket_core.manager
    for netra_backend in (None,):
        pass
    import netra_backend.app.websocket_core.manager
    return netra_backend.app.websocket_core.manager.WebSocketManager
