"""Command-line tools for operators and the pipeline; each is `python -m tools.<name>`.

Nothing here is deployed or synthesized: the stacks never import these modules.
"""
