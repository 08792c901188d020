"""One module per stage kind, each with ``run(ctx: StageContext) -> StageResult``.

The runner imports ``mlspec.runtime.stages.<kind>`` only when a stage of that kind actually runs, so the
heavy libraries these modules use are never imported by a fully cached run. The contract is in
:mod:`mlspec.runtime.context`.
"""
