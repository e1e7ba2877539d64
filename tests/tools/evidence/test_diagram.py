"""The generated diagrams: capabilities and flows of the real app, and the committed pages kept current."""

from __future__ import annotations

from pathlib import Path

import pytest

from cashtrace_constructs.checks.template import of_type, properties
from tests.tools.evidence.assemblies import stack_of
from tools.evidence.assembly import ROOT, Assembly
from tools.evidence.diagram import mermaid, render, summary
from tools.evidence.docs import END, START, expected_files, main, stale
from tools.evidence.graph import USERS, Graph, build_graph


def edge(graph: Graph, source: str, target: str) -> str:
    (label,) = [e.label for e in graph.edges if (e.source, e.target) == (source, target)]
    return label


def test_the_committed_diagrams_match_the_current_synth(assembly: Assembly) -> None:
    # `make diagrams` rewrites them; this fails when a change to the app left them behind.
    assert stale(assembly, ROOT) == []
    assert len(expected_files(assembly, ROOT)) == 4  # three pages and the README


def test_prod_is_drawn_as_capabilities_and_their_flows(assembly: Assembly) -> None:
    prod = assembly.stack_for("prod")
    graph = build_graph(prod)
    names = {node.name for node in graph.nodes.values()}
    assert {
        "Api",
        "Api load balancer",
        "Database",
        "Cache",
        "Storage",
        "StaticAssets CDN",
        "Secrets",
        "Monitoring",
    } <= names
    (_, database), (_, cache) = (
        next(of_type(prod.template, "AWS::RDS::DBInstance")),
        next(of_type(prod.template, "AWS::ElastiCache::ReplicationGroup")),
    )
    assert edge(graph, "Api", "Database") == f"PostgreSQL :{properties(database)['Port']}"
    assert edge(graph, "Api", "Cache") == f"Redis :{properties(cache)['Port']} TLS"
    assert edge(graph, "Api", "Secrets") == "credentials" and edge(graph, "Api", "Storage") == "objects"
    assert edge(graph, USERS, "Api_load_balancer").startswith("HTTP")
    assert edge(graph, "StaticAssets_CDN", "StaticAssets") == "objects"
    assert edge(graph, "Database", "Backups") == "backups"
    assert {e.source for e in graph.edges if e.target == "Monitoring" and e.dotted} >= {"Api", "Database", "Cache"}
    placed = {node.name for node in graph.nodes.values() if node.in_vpc}
    assert {"Api", "Database", "Cache", "Grafana"} <= placed and "Storage" not in placed


def test_a_newcomer_reads_a_dozen_boxes_not_the_template(assembly: Assembly) -> None:
    for environment in ("dev", "staging", "prod"):
        stack = assembly.stack_for(environment)
        counts = summary(stack)
        # A reader follows a couple of arrows per box, not one per resource.
        assert counts["resources"] > 200 and counts["nodes"] <= 20 and counts["flows"] <= 2 * counts["nodes"], counts
        assert len(mermaid(stack)) < 6_000
    dev, prod = (render(build_graph(assembly.stack_for(name))) for name in ("dev", "prod"))
    assert "single-AZ" in dev and "Multi-AZ" in prod


def test_permissions_and_network_rules_become_labelled_flows_between_top_level_constructs() -> None:
    template = {
        "Resources": {
            "QueueA": {"Type": "AWS::SQS::Queue"},
            "RoleB": {"Type": "AWS::IAM::Role"},
            "FunctionB": {"Type": "AWS::Lambda::Function", "Properties": {"Role": {"Fn::GetAtt": ["RoleB", "Arn"]}}},
            "PolicyB": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "Roles": [{"Ref": "RoleB"}],
                    "PolicyDocument": {
                        "Statement": [{"Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": ["QueueA", "Arn"]}}]
                    },
                },
            },
        }
    }
    paths = {
        "QueueA": "Orders/Queue/Resource",
        "RoleB": "Worker/Role/Resource",
        "FunctionB": "Worker/Function/Resource",
        "PolicyB": "Worker/Policy/Resource",
    }
    metadata = {f"/Test/{path}": [{"type": "aws:cdk:logicalId", "data": lid}] for lid, path in paths.items()}
    graph = build_graph(stack_of(template, metadata=metadata))
    assert set(graph.nodes) == {"Orders", "Worker"}
    assert edge(graph, "Worker", "Orders") == "messages"


def test_a_missing_or_edited_page_is_stale_and_the_check_says_so(
    assembly: Assembly, app_outdir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "README.md").write_text(f"# Title\n\n{START}\nhand-drawn\n{END}\n\nmore\n")
    assert {path.relative_to(tmp_path).as_posix() for path in stale(assembly, tmp_path)} == {
        "README.md", "docs/diagrams/dev.md", "docs/diagrams/staging.md", "docs/diagrams/prod.md"
    }  # fmt: skip
    readme = expected_files(assembly, tmp_path)[tmp_path / "README.md"]
    assert readme.startswith("# Title\n\n") and readme.endswith("\n\nmore\n") and "hand-drawn" not in readme
    (tmp_path / "README.md").write_text("no markers")
    with pytest.raises(LookupError):
        expected_files(assembly, tmp_path)
    assert main(["--check", "--out", str(app_outdir)]) == 0
