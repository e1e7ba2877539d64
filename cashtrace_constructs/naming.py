"""Physical names that cannot block a retry of a failed first deploy.

A stack whose first create fails ends in ROLLBACK_COMPLETE and is deleted and created again (both
`cdk deploy` and CodePipeline do that), while every retained resource of the failed attempt stays
behind. A retained resource with a fixed name then makes the next attempt fail with "already
exists". Where CloudFormation can choose a name, let it; where a service needs a name of a
certain shape (a WAF log group, the log groups RDS names after its instance, a backup vault,
whose name CloudFormation requires), end the name with `stack_suffix()`: the first block of the
stack id, new for every stack created and stable for the stack's life.
"""

from __future__ import annotations

from aws_cdk import Aws, Fn


def stack_suffix() -> str:
    """Eight hex digits of this stack's id (a token resolved by CloudFormation at deploy)."""
    # arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>; the uuid's first block.
    return Fn.select(0, Fn.split("-", Fn.select(2, Fn.split("/", Aws.STACK_ID))))


def per_stack_name(base: str) -> str:
    """`<base>-<stack suffix>`: 9 characters longer than `base`, lower-case hex."""
    return f"{base}-{stack_suffix()}"
