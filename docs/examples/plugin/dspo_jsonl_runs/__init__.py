"""dspo source kind `jsonl_runs`: pipeline runs from a JSON-lines log (a dspo plugin example)."""
