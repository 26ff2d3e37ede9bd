"""The only code that talks to Docker: every docker argv is built in this package.

`docker` runs the CLI (the one runner every call goes through), `info` checks the engine,
`containers` asks about and removes containers, volumes and networks, `images` finds and
resolves images, `compose` starts a project's services with Compose. Nothing here names a
particular service.
"""
