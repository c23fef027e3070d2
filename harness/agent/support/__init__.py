"""The reference support agent: an online outdoor-gear shop's support desk.

Its pieces: typed tools over an in-memory shop (orders, customers with fake PII, help-center articles, two planted
prompt injections and one order whose backend fails), the final-answer model, and the variables that the prompt
versions in ``harness/agent/prompts/support/`` are rendered with. Offline, the model is mockllm's ``support``
scenario.
"""

from harness.agent.support.answer import Resolution, SupportReply
from harness.agent.support.shop import FIXTURE_PATH, Shop, ShopError, load_shop
from harness.agent.support.tools import PROMPT_VARIABLES, SUPPORT_TOOLS, make_support_tools, shop_for_run

AGENT_NAME = "support"
"""Name of the agent, and of its prompt family (``prompts/support/<version>.md``) and mockllm scenario."""

__all__ = [
    "AGENT_NAME",
    "FIXTURE_PATH",
    "PROMPT_VARIABLES",
    "SUPPORT_TOOLS",
    "Resolution",
    "Shop",
    "ShopError",
    "SupportReply",
    "load_shop",
    "make_support_tools",
    "shop_for_run",
]
