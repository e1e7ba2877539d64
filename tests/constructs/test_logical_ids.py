"""Stage-independent logical ids: our copy of CDK's id algorithm, and the normalization of embedded ids."""

from __future__ import annotations

from aws_cdk import App, Names, Stack, Stage
from constructs import Construct

from cashtrace_constructs.logical_ids import make_unique_id, stable_logical_id, stack_prefix, without_absolute_ids


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
