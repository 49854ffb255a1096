"""`pipegen run`: the plan executed on this machine (DESIGN §1, §5).

Jobs run in dependency order, each in a clean working copy of the repository and a
fresh venv, with the plan's own step texts under bash and the same install commands the
generated files carry; outputs pass between jobs through `pipegen output set`'s local
mode; approvals are asked on the terminal or given with --approve.

  selection  which jobs an event/branch runs, and the part --stage/--job picks
  commands   the exact shell commands of a job (what the parity tests compare)
  workspace  the clean working copy of the repository
  venv       a fresh venv per job
  executor   one job: env, steps under bash, outputs read back
  state      .pipegen/run/: outputs and statuses kept between runs
  runner     the schedule: needs, parallelism, approvals, the summary
"""
