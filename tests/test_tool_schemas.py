"""Tool schemas: argument descriptions from Google, reST and NumPy docstrings; recursive models."""

from __future__ import annotations

from typing import Any

from chatserver import ChatServer, call, text, tools
from conftest import make_model
from pydantic import BaseModel

from tui.agent import Agent, RunStatus, tool


def descriptions(fn: Any) -> tuple[str, dict[str, str]]:
    spec = fn.to_openai_tool()["function"]
    return spec["description"], {k: v.get("description") for k, v in spec["parameters"]["properties"].items()}


def test_a_google_docstring_describes_each_argument() -> None:
    @tool
    def book(city: str, nights: int = 1) -> str:
        """Book a hotel.

        Args:
            city: The city, as the guest
                wrote it.
            nights (int): How many nights.

        Returns:
            The booking reference.
        """
        return city

    assert descriptions(book) == ("Book a hotel.", {"city": "The city, as the guest wrote it.", "nights": "How many nights."})


def test_a_rest_docstring_describes_each_argument() -> None:
    @tool
    def book(city: str, nights: int = 1) -> str:
        """Book a hotel.

        :param city: The city.
        :param nights: How many nights.
        :type nights: int
        :returns: The booking reference.
        """
        return city

    assert descriptions(book) == ("Book a hotel.", {"city": "The city.", "nights": "How many nights."})


def test_a_numpy_docstring_describes_each_argument() -> None:
    @tool
    def book(city: str, nights: int = 1) -> str:
        """Book a hotel.

        Parameters
        ----------
        city : str
            The city.
        nights : int
            How many nights.

        Returns
        -------
        str
            The booking reference.
        """
        return city

    assert descriptions(book) == ("Book a hotel.", {"city": "The city.", "nights": "How many nights."})


def test_a_user_input_field_takes_its_description_from_any_style() -> None:
    @tool(requires_user_input=True, user_input_fields=["to"])
    def notify(text: str, to: str) -> str:
        """Notify someone.

        :param text: What to say.
        :param to: Who gets it.
        """
        return to

    [field] = notify.user_input_schema()
    assert (field.name, field.description) == ("to", "Who gets it.")
    assert descriptions(notify) == ("Notify someone.", {"text": "What to say."})


def test_a_plain_docstring_is_all_description() -> None:
    @tool
    def ping(host: str) -> str:
        """Ping a host: reachable or not."""
        return host

    assert descriptions(ping) == ("Ping a host: reachable or not.", {"host": None})


class Node(BaseModel):
    """A folder and the folders inside it."""

    name: str
    children: list[Node] = []


def count(node: Node) -> int:
    return 1 + sum(count(c) for c in node.children)


@tool
def make_tree(tree: Node) -> str:
    """Create a folder tree.

    Args:
        tree: The root folder.
    """
    return f"created {count(tree)} folders"


async def test_a_recursive_model_as_a_parameter_keeps_a_reference_and_the_run_completes() -> None:
    parameters = make_tree.parameters
    node = parameters["$defs"]["Node"]
    assert node["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    assert parameters["properties"]["tree"]["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    assert parameters["properties"]["tree"]["properties"]["name"] == {"type": "string"}

    tree = {"name": "root", "children": [{"name": "a", "children": [{"name": "b"}]}]}
    with ChatServer([tools(call("make_tree", {"tree": tree})), text("Done.")]) as server:
        agent = Agent(model=make_model(server, "json"), tools=[make_tree])
        run = await agent.arun("Make the tree")
        assert run.status == RunStatus.completed, run.error
        assert run.tools[0].result == "created 3 folders"
        sent = server.requests[0]["tools"][0]["function"]["parameters"]
        assert "$defs" in sent and sent["$defs"]["Node"]["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}


class Address(BaseModel):
    city: str


class Person(BaseModel):
    home: Address
    work: Address | None = None


def test_a_non_recursive_nested_model_is_still_inlined_flat() -> None:
    @tool
    def register(person: Person) -> str:
        """Register a person."""
        return "ok"

    parameters = register.parameters
    assert "$defs" not in parameters and "$ref" not in str(parameters)
    assert parameters["properties"]["person"]["properties"]["home"] == {
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "type": "object",
    }
