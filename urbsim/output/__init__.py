"""Run output: the two tables, the manifest and the figures, written atomically."""

from urbsim.output.write import (
    FIGURES_DIR,
    MANIFEST_FILE,
    NATIONAL_FILE,
    PLACES_FILE,
    OutputError,
    build_manifest,
    check_replaceable,
    git_state,
    read_run_tables,
    replace_dir,
    table_hash,
    write_run,
    write_table,
)

__all__ = [
    "FIGURES_DIR",
    "MANIFEST_FILE",
    "NATIONAL_FILE",
    "PLACES_FILE",
    "OutputError",
    "build_manifest",
    "check_replaceable",
    "git_state",
    "read_run_tables",
    "replace_dir",
    "table_hash",
    "write_run",
    "write_table",
]
