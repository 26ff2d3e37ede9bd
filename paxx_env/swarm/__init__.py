"""The swarm target: the declared services as a stack on the current engine's Swarm.

`stackfile` translates the render's Compose overlays into a stack file (pure), `deploy`
runs `paxx up --target swarm`, `converge` waits until every service runs its new spec,
`report` is `paxx status` of a stack, `remove` is `paxx down --target swarm`. The docker
argv are built in engine/swarm.py and engine/tasks.py. docs/swarm.md describes it.
"""
