"""The `paxx` command line: one module per command group, registered in app.py.

Commands parse their arguments, call one domain function and print what it returns; they
import the heavy modules (catalog, rendering) inside the command, so
`paxx --help` starts quickly.
"""
