"""Rule dry-runs against real history: how many past calls a rule would have matched, rejected ones first."""

from __future__ import annotations

from pathlib import Path

from tui.agent import Agent, tool
from tui.agent.models import DemoModel
from tui.agent.rules import dry_run, parse_rules
from tui.cli import main
from tui.store.history_calls import history_calls
from tui.store import RunStore


@tool(requires_confirmation=True)
def deploy(service: str, replicas: int) -> str:
    """Deploy a service.

    Args:
        service: Which service.
        replicas: How many replicas.
    """
    return f"deployed {service} x{replicas}"


@tool
def status(service: str) -> str:
    """Show a service's status (ungated).

    Args:
        service: Which service.
    """
    return "ok"


async def _seed(db: Path) -> None:
    """Seven deploy calls: five to 'web' (two rejected by a person), two to 'db'; plus ungated calls."""
    store = RunStore(db)
    agent = Agent(model=DemoModel(delay=0), tools=[deploy, status], store=store)
    plan = [
        ("web", 2, "approve", None),
        ("web", 3, "reject", "not during business hours"),
        ("db", 1, "approve", None),
        ("web", 4, "approve", None),
        ("web", 9, "reject", "nine replicas is too many"),
        ("db", 2, "reject", "db is frozen"),
        ("web", 1, "approve", None),
    ]
    for service, replicas, decision, note in plan:
        run = await agent.arun(f'call deploy {{"service": "{service}", "replicas": {replicas}}}')
        t = run.tools_requiring_confirmation[0]
        t.confirm() if decision == "approve" else t.reject(note)
        await agent.acontinue_run(run_response=run)
        await agent.arun(f'call status {{"service": "{service}"}}')
    store.close()


RULE = """
[[rule]]
name = "web-deploys"
tool = "deploy"
effect = "allow"
[rule.args.service]
equals = "web"
"""


async def test_a_dry_run_reports_exactly_the_matches_and_the_person_rejected_ones(tmp_path: Path):
    db = tmp_path / "runs.db"
    await _seed(db)
    report = dry_run(parse_rules(RULE)[0], history_calls(RunStore(db)))
    assert len(report.matched) == 5
    assert [(c.args["replicas"], c.note) for c in report.rejected] == [
        (3, "not during business hours"),
        (9, "nine replicas is too many"),
    ]
    # rejected matches are listed first
    assert [c.rejected_by_person for c in report.ordered] == [True, True, False, False, False]


async def test_rules_test_command_prints_the_figures_and_warns(tmp_path: Path, capsys):
    db = tmp_path / "runs.db"
    await _seed(db)
    rules = tmp_path / "candidate.toml"
    rules.write_text(RULE)
    assert main(["rules", "test", str(rules), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "would have matched 5 past calls; WARNING: 2 of them were rejected by a person" in out
    lines = [line for line in out.splitlines() if line.strip().startswith(("REJECTED", "completed"))]
    assert [line.split()[0] for line in lines] == ["REJECTED", "REJECTED", "completed", "completed", "completed"]
    assert "not during business hours" in lines[0] and "nine replicas is too many" in lines[1]
    assert "Warning: an allow rule matches calls that a person rejected" in out


def test_rules_test_command_reports_an_invalid_file_with_its_line(tmp_path: Path, capsys):
    rules = tmp_path / "bad.toml"
    rules.write_text("\n[[rule]]\nname = 'x'\ntool = 'deploy'\neffect = 'permit'\n")
    assert main(["rules", "test", str(rules), "--db", str(tmp_path / "runs.db")]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "'effect' must be allow, ask or deny" in err
