"""Pure KPI computations: frames (as `store` queries return them) in, numbers and frames out.

No I/O, no clock: every function that depends on time takes an explicit, timezone-aware
`as_of`. Modules: `history` (an item's fields at any instant), `velocity`, `backlog`,
`health` (objective status), `trend`.
"""
