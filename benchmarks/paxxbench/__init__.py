"""The benchmark of paxx against raw `docker compose`; benchmarks/bench.py runs it.

Where what is, bottom up (a module imports only from modules above it in this list):

    runner      run one command: wall time, peak RSS, output; the progress log
    idle        how idle the CPUs are now (/proc/stat); waiting for them before a run
    stats       repeated values: median (min–max), units, a fitted line
    results     a page section, its targets, Markdown tables
    checkout    the paxx checkout: its root, its features, its source digest
    probes      host-side readiness probes of the six services (standard library only)
    importtime  parsing `python -X importtime`
    workbench   the temporary folder, throwaway projects, every docker/compose command
    paxxlog     parsing what `paxx -v` logs: engine calls, phases of `paxx up`
    engine      what the engine says about a stack: health, exec events, containers
    machine     the Machine table and the stack's images
    measure     what a measure family is (Measure, Stage)
    measures/   one module per family, each with a MEASURE
    registry    the list of families, in page order
    page        docs/benchmarks.md from the sections
    cli         the command line: set up, run the registry, write the page, clean up
"""
