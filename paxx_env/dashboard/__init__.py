"""`paxx dashboard`: one local page with the live state of the environment.

An optional extra (`pip install 'paxx[dashboard]'`: Starlette and uvicorn): only
commands/dashboard.py imports this package, and only when the command runs. It has no logic
of its own: the status and drift come from report, the variables from variables, the
generation from generations, the buttons run lifecycle, and every docker command is built in
engine/. `serve` runs the server; `board` keeps the page's parts current (`watch` notices
changes, `hub` hands them to the open pages); `app` answers the requests that `guard` lets
through; `views` renders the parts; `actions` runs the buttons.
"""
