"""``fraudring serve``: the ASGI app (scoring endpoints and the investigators' workbench).

Importing this package imports no torch; :func:`graphgnn.api.app.create_app` loads the model.
"""
