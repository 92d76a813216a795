"""Pure xAPI domain rules: no I/O, plain dicts in and out."""
