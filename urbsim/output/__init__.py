"""Run output: the tables, the manifest and the figures, written atomically, and the
marker that says which folders urbsim may replace."""

from urbsim.output.marker import (
    KINDS,
    MARKER_FILE,
    OutputError,
    check_location,
    check_replaceable,
    check_subfolder_replaceable,
    read_marker,
    tracked_files,
    write_marker,
)
from urbsim.output.write import (
    FIGURES_DIR,
    FLOWS_FILE,
    MANIFEST_FILE,
    NATIONAL_FILE,
    PLACES_FILE,
    build_manifest,
    git_state,
    read_flows,
    read_run_tables,
    replace_dir,
    table_hash,
    write_run,
    write_table,
)

__all__ = [
    "FIGURES_DIR",
    "FLOWS_FILE",
    "KINDS",
    "MANIFEST_FILE",
    "MARKER_FILE",
    "NATIONAL_FILE",
    "PLACES_FILE",
    "OutputError",
    "build_manifest",
    "check_location",
    "check_replaceable",
    "check_subfolder_replaceable",
    "git_state",
    "read_flows",
    "read_marker",
    "read_run_tables",
    "replace_dir",
    "table_hash",
    "tracked_files",
    "write_marker",
    "write_run",
    "write_table",
]
