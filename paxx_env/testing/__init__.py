"""The pytest plugin: every test gets its own slice of the running environment.

`plugin` is what pytest loads (entry point `pytest11`: `paxx`); it imports nothing heavy and
does nothing until a test asks for one of its fixtures. `environment` finds the project and
brings its services up (or checks them) once per process; `run` names each test's slice;
one module per protocol makes and removes a slice: `postgres`, `keyvalue` (Redis),
`buckets` (S3), `mailbox` (Mailpit), `indexes` (Meilisearch), `spans` (Jaeger); `settings`
points the app's variables at them. docs/testing.md is the user's guide.
"""
