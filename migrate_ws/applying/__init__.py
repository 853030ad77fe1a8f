"""Writing a planned migration: in place, on a new git branch, or split into branches by owner;
the crash journal, `--abort` and the apply lock. Below the command line (`migrate_ws/cli/`),
which chooses an applier and shows what it reports through `UI`; nothing here prints."""
