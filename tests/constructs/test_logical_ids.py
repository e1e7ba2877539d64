"""Stage-independent logical ids: our copy of CDK's id algorithm, and the normalization of embedded ids."""

from __future__ import annotations

from aws_cdk import App, CfnResource, Names, Stack, Stage
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from cashtrace_constructs.logical_ids import (
    keep_logical_ids,
    make_unique_id,
    stabilize_logical_ids,
    stable_logical_id,
    stack_prefix,
    without_absolute_ids,
)


def test_make_unique_id_is_cdks_algorithm() -> None:
    app = App()
    stack = Stack(app, "CashTrace-Prod")
    deep = Construct(Construct(Construct(stack, "Api"), "Service"), "SecurityGroup")
    default = Construct(Construct(stack, "Network"), "Default")
    for construct in (deep, default, stack):
        components = construct.node.path.split("/")
        assert make_unique_id(components) == Names.unique_id(construct)


def test_embedded_absolute_ids_normalize_to_the_same_text_in_a_stage_and_at_top_level() -> None:
    app = App()
    top = Construct(Stack(app, "CashTrace-Prod"), "Api")
    staged = Construct(Stack(Stage(Stack(app, "CashTrace-Pipeline"), "Prod"), "Environment"), "Api")
    top_id, staged_id = Names.unique_id(top), Names.unique_id(staged)
    assert top_id != staged_id
    top_rule = f"from {top_id}:5433"
    staged_rule = f"from {staged_id}:5433"
    assert without_absolute_ids(top_rule, stack_prefix("CashTrace-Prod")) == "from Api:5433"
    assert without_absolute_ids(staged_rule, stack_prefix("CashTrace-Pipeline/Prod/Environment")) == "from Api:5433"
    assert stable_logical_id("CashTrace-Prod", f"CashTrace-Prod/Database/{top_rule}") == stable_logical_id(
        "CashTrace-Pipeline/Prod/Environment", f"CashTrace-Pipeline/Prod/Environment/Database/{staged_rule}"
    )


def test_ids_without_embedded_paths_are_left_as_cdk_makes_them() -> None:
    assert stable_logical_id("S", "S/Api/Service/Resource") == make_unique_id(["Api", "Service", "Resource"])


def _compose(stack: Stack) -> list[str]:
    """A rule whose id names its peer absolutely (as CDK's security-group rules do) and a plain resource."""
    peer = Construct(stack, "Api")
    CfnResource(Construct(stack, "Database"), f"from {Names.unique_id(peer)}:5432", type="AWS::SNS::Topic")
    CfnResource(stack, "Plain", type="AWS::SNS::Topic")
    return stabilize_logical_ids(stack)


def _logical_ids(stack: Stack) -> set[str]:
    return {stack.resolve(r.logical_id) for r in stack.node.find_all() if isinstance(r, CfnResource)}


def test_stabilized_stacks_get_one_template_at_top_level_and_in_a_stage() -> None:
    app = App()
    top = Stack(app, "CashTrace-Prod")
    staged = Stack(Stage(Stack(app, "CashTrace-Pipeline"), "Prod"), "Environment")
    top_overridden, staged_overridden = _compose(top), _compose(staged)
    peer_id = Names.unique_id(top.node.find_child("Api"))
    assert top_overridden == [f"CashTrace-Prod/Database/from {peer_id}:5432"]
    assert len(staged_overridden) == 1 and staged_overridden[0].startswith("CashTrace-Pipeline/Prod/Environment/")
    ids = _logical_ids(top)
    assert ids == _logical_ids(staged)
    assert "Plain" in ids and len(ids) == 2


def _secrets(database_scope: Construct, token_scope: Construct, token_id: str) -> rds.DatabaseSecret:
    """A database login (its id carries CDK's password-rules hash) and a plain secret with a policy."""
    login = rds.DatabaseSecret(database_scope, "Secret", username="admin", replace_on_password_criteria_changes=True)
    token = secretsmanager.Secret(token_scope, token_id)
    token.add_to_resource_policy(
        iam.PolicyStatement(effect=iam.Effect.DENY, principals=[iam.AnyPrincipal()], actions=["*"], resources=["*"])
    )
    return login


def test_moved_constructs_keep_the_logical_ids_they_were_deployed_with() -> None:
    app = App()
    before = Stack(app, "Before")
    login = _secrets(Construct(Construct(before, "Database"), "Instance"), Construct(before, "Cache"), "AuthToken")
    # As deployed: the login pinned to its stack-relative id plus CDK's password-rules hash.
    cfn_login = login.node.default_child
    assert isinstance(cfn_login, CfnResource)
    deployed = stable_logical_id("Before", login.node.path) + str(before.resolve(cfn_login.logical_id))[-32:]
    cfn_login.override_logical_id(deployed)
    after = Stack(app, "After")
    owner = Construct(after, "Secrets")
    _secrets(Construct(owner, "Database"), owner, "CacheAuthTokenSecret")
    assert _logical_ids(before) != _logical_ids(after)
    kept = keep_logical_ids(
        after,
        {"Secrets/Database/Secret": "Database/Instance/Secret", "Secrets/CacheAuthTokenSecret": "Cache/AuthToken"},
    )
    assert len(kept) == 3  # the two secrets and the token's policy
    assert _logical_ids(before) == _logical_ids(after)
    assert deployed in _logical_ids(after)
